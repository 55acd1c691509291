"""A download reader at a fixed pace, with a small receive buffer, for the idle-guard tests.

Node cannot size a socket's buffers; with Linux's autotuned ones a slow reader's kernel
acknowledges bytes in steps of hundreds of KiB, seconds apart. A 16 KiB buffer makes the
server's kernel see every few KiB the reader takes, as it would over a real network.

usage: paced-reader.py URL BYTES_PER_SECOND READ_SECONDS STOP_SECONDS
Reads for READ_SECONDS at the pace, then (if STOP_SECONDS > 0) stops reading that long, then
takes whatever is left until the server closes. Writes the body bytes it got to stdout; exits
0 when the connection was still open after READ_SECONDS, 3 when it was closed before.
"""
import socket
import sys
import time
from urllib.parse import urlsplit

url, rate, read_seconds, stop_seconds = urlsplit(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4])
sock = socket.socket()
sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 16 * 1024)
sock.connect((url.hostname, url.port))
target = url.path + ('?' + url.query if url.query else '')
sock.sendall(f'GET {target} HTTP/1.1\r\nHost: {url.netloc}\r\nConnection: close\r\n\r\n'.encode())

out = sys.stdout.buffer
head = b''
closed_early = False
started = time.monotonic()
got = 0
tick = 0.05
while time.monotonic() - started < read_seconds:
    try:
        chunk = sock.recv(max(1, int(rate * tick)))
    except ConnectionResetError:
        chunk = b''
    if not chunk:
        closed_early = True
        break
    if head is not None:
        head += chunk
        if b'\r\n\r\n' in head:
            out.write(head.split(b'\r\n\r\n', 1)[1])
            head = None
    else:
        out.write(chunk)
    got += len(chunk)
    # Paced against the start, so the average stays at `rate` whatever each sleep overshoots.
    time.sleep(max(0.0, got / rate - (time.monotonic() - started)))

if not closed_early and stop_seconds > 0:
    time.sleep(stop_seconds)
    sock.settimeout(10)
    try:
        while chunk := sock.recv(65536):
            if head is None:
                out.write(chunk)
    except (ConnectionResetError, socket.timeout):
        pass
out.flush()
sys.exit(3 if closed_early else 0)
