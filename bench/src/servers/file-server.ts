/**
 * The download baseline: node:http piping fs.createReadStream of a file, with a Content-Length and
 * nothing else: what any server can do with those bytes. BENCH_FILES maps names to paths
 * (JSON); `GET /<name>` serves that file.
 */
import { createReadStream, statSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pipeline } from 'node:stream';
import { send, serveBenchmarkQueries } from './ipc.js';

const files = new Map(
  Object.entries(JSON.parse(process.env.BENCH_FILES ?? '{}') as Record<string, string>).map(([name, path]) => [
    `/${name}`,
    { path, size: statSync(path).size },
  ]),
);

const server = createServer((req, res) => {
  const file = files.get(req.url ?? '');
  if (!file) {
    res.writeHead(404).end();
    return;
  }
  res.writeHead(200, { 'Content-Type': 'application/octet-stream', 'Content-Length': file.size });
  // Errors (a client gone) only end this response.
  pipeline(createReadStream(file.path), res, () => {});
});
server.listen(0, '127.0.0.1', () => {
  serveBenchmarkQueries(() => []);
  send({ type: 'ready', url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` });
});
