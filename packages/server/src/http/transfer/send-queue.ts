import { readFile, readlink } from 'node:fs/promises';
import type { Socket } from 'node:net';

/**
 * Bytes the kernel still holds for a TCP socket (sent but not acknowledged, or not sent yet),
 * read from /proc/net/tcp by the socket's inode: the one way to see, from JavaScript, that a
 * reader slower than the socket buffers still takes bytes. Node only learns that the kernel
 * took more once about a third of a send buffer (megabytes) is free, minutes apart for a slow
 * reader. Undefined where there is no such file (not Linux, /proc hidden): callers then judge
 * by what Node sees alone.
 */
export type SendQueueProbe = () => Promise<number | undefined>;

export function sendQueueProbe(socket: Socket): SendQueueProbe {
  let inode: Promise<string | undefined> | undefined;
  return async () => {
    inode ??= socketInode(socket);
    const id = await inode;
    if (id === undefined) return undefined;
    const table = await readFile(socket.remoteFamily === 'IPv6' ? '/proc/net/tcp6' : '/proc/net/tcp', 'utf8').catch(() => undefined);
    return table === undefined ? undefined : txQueueOf(table, id);
  };
}

async function socketInode(socket: Socket): Promise<string | undefined> {
  // The descriptor is not public API, but has been the handle's `fd` on Unix since Node 0.x.
  const fd = (socket as unknown as { _handle?: { fd?: number } })._handle?.fd;
  if (typeof fd !== 'number' || fd < 0) return undefined;
  const link = await readlink(`/proc/self/fd/${fd}`).catch(() => '');
  return /^socket:\[(\d+)\]$/.exec(link)?.[1];
}

/** Columns: sl local rem st tx_queue:rx_queue tr:when retrnsmt uid timeout inode ... */
function txQueueOf(table: string, inode: string): number | undefined {
  for (const line of table.split('\n')) {
    const fields = line.trim().split(/\s+/);
    if (fields[9] === inode) return Number.parseInt(fields[4]?.split(':')[0] ?? '', 16);
  }
  return undefined;
}
