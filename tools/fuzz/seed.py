"""Stores one object through the documented upload flow and prints a schemathesis config fragment
that offers its key to the download operation, so the fuzzer reaches the byte-streaming path
(200, 206 and 416 answers, Range parsing, headers) instead of meeting only 404s.

Usage: python3 seed.py http://127.0.0.1:<port>   (the runner passes only its own loopback server)
"""

import json
import os
import sys
import urllib.error
import urllib.parse
import urllib.request

WORKSPACE = "fuzz-seed"


def call(method, url, body=None, headers=None):
    request = urllib.request.Request(url, data=body, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.headers, response.read()
    except urllib.error.HTTPError as error:
        sys.exit(f"seed.py: {method} {url.split('?')[0]} answered {error.code}: {error.read()[:500]!r}")


def api(base, method, path, query=None, payload=None):
    url = f"{base}/s3/{path}" + (f"?{urllib.parse.urlencode(query)}" if query else "")
    body = None if payload is None else json.dumps(payload).encode()
    headers = {} if payload is None else {"content-type": "application/json"}
    _, answer = call(method, url, body, headers)
    return json.loads(answer)


def main(base):
    if not base.startswith("http://127.0.0.1:"):
        sys.exit("seed.py only talks to a server on 127.0.0.1")
    started = api(base, "GET", "start-upload", {"workspaceId": WORKSPACE, "fileType": "image/png"})
    ids = {"UploadId": started["uploadId"], "assetId": started["assetId"], "workspaceId": WORKSPACE}
    signed = api(base, "GET", "get-upload-url", {**ids, "PartNumber": "1"})
    headers, _ = call("PUT", signed["url"], os.urandom(64 * 1024))
    part = {"ETag": headers["ETag"], "PartNumber": 1}
    done = api(base, "POST", "complete-upload", payload={"uploadId": ids["UploadId"], "assetId": ids["assetId"], "workspaceId": WORKSPACE, "parts": [part]})
    # Half of the generated downloads name the stored object; the rest stay random. Ranges inside,
    # across and past the end of its 64 KiB, and ones the server must ignore, mix with random ones.
    ranges = ["bytes=0-0", "bytes=-1", "bytes=65535-", "bytes=65536-", "bytes=70000-80000", "bytes=10-5", "bytes=0-1,2-3", "items=0-1"]
    bindings = {
        "query.key": "seeded-key",
        "query.workspaceId": "seeded-workspace",
        "header.Range": "ranges",
    }
    # Uppy's paths answer 401 to any capability but a minted one: offer one, and an open upload of its workspace.
    minted = api(base, "POST", "uppy-capability", payload={"workspaceId": WORKSPACE})
    endpoint = minted["endpoint"]
    if not endpoint.startswith(base + "/uppy/"):
        sys.exit("seed.py: the minted Uppy endpoint is not on this server")
    body = json.dumps({"filename": "seed.bin", "type": "application/octet-stream", "metadata": {}}).encode()
    _, answer = call("POST", f"{endpoint}/s3/multipart", body, {"content-type": "application/json"})
    upload = json.loads(answer)
    print("\n[dictionaries]")
    print(f"seeded-key.values = {json.dumps([done['key']])}")
    print(f"seeded-workspace.values = {json.dumps([WORKSPACE])}")
    print(f"ranges.values = {json.dumps(ranges)}")
    print(f"uppy-capability.values = {json.dumps([minted['capability']])}")
    print(f"uppy-key.values = {json.dumps([upload['key']])}")
    print(f"uppy-upload.values = {json.dumps([upload['uploadId']])}")
    print("\n[[operations]]")
    print('include-operation-id = "download"')
    inline = ", ".join(f'"{name}" = {{ dictionary = "{dictionary}", probability = 0.5 }}' for name, dictionary in bindings.items())
    print(f"parameters = {{ {inline} }}")

    print("\n[[operations]]")
    print('include-tag = "uppy"')
    uppy = {"path.capability": ("uppy-capability", 0.9), "query.key": ("uppy-key", 0.5), "path.uploadId": ("uppy-upload", 0.5)}
    inline = ", ".join(f'"{name}" = {{ dictionary = "{dictionary}", probability = {p} }}' for name, (dictionary, p) in uppy.items())
    print(f"parameters = {{ {inline} }}")


if __name__ == "__main__":
    main(sys.argv[1])
