/**
 * The local data plane's baseline (issue 20): a plain `node:http` server that takes each part PUT,
 * MD5-hashes it on the way and writes it to a file of its own with `fs.createWriteStream`,
 * answering the MD5 as its ETag. That is what any part receiver has to do; the service's store
 * does it too, besides checking the URL's signature, batching its writes and keeping the parts as
 * the object's segments at complete. `DELETE /parts` removes what it holds.
 */
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { createServer } from 'node:http';
import { join } from 'node:path';
import { send, serveBenchmarkQueries } from './ipc.js';

const dir = process.env.BENCH_RECEIVER_DIR;
if (!dir) throw new Error('md5-receiver: BENCH_RECEIVER_DIR names the folder it writes parts to');
await mkdir(dir, { recursive: true });

const PART_PATH = /^\/parts\/(\d{1,5})$/;

const server = createServer((req, res) => {
  if (req.method === 'DELETE' && req.url === '/parts') {
    rm(dir, { recursive: true, force: true })
      .then(() => mkdir(dir, { recursive: true }))
      .then(() => res.writeHead(204).end());
    return;
  }
  const match = req.method === 'PUT' ? PART_PATH.exec(req.url ?? '') : null;
  if (!match) {
    res.writeHead(404).end();
    return;
  }
  receive(req, join(dir, `${match[1]}.part`)).then(
    (md5) => res.writeHead(200, { ETag: `"${md5}"` }).end(),
    () => res.writeHead(500).end(),
  );
});

async function receive(body: AsyncIterable<Buffer>, file: string): Promise<string> {
  const hash = createHash('md5');
  const out = createWriteStream(file);
  try {
    for await (const chunk of body) {
      hash.update(chunk);
      if (!out.write(chunk)) await once(out, 'drain');
    }
    out.end();
    await once(out, 'finish');
    return hash.digest('hex');
  } finally {
    out.destroy();
  }
}

server.listen(0, '127.0.0.1', () => {
  const address = server.address();
  if (!address || typeof address === 'string') throw new Error('md5-receiver: no port');
  serveBenchmarkQueries(() => []);
  send({ type: 'ready', url: `http://127.0.0.1:${address.port}` });
});
