// Fault injection for process tests, loaded into the API with NODE_OPTIONS=--import=<this file>:
// each hard link the local store makes while it completes an upload takes 250 ms, so a test can
// kill the process in the middle of a complete, which otherwise lasts about a millisecond.
import fs from 'node:fs';
import { syncBuiltinESMExports } from 'node:module';

const link = fs.linkSync;
const pause = new Int32Array(new SharedArrayBuffer(4));
fs.linkSync = (existing, created) => {
  link(existing, created);
  Atomics.wait(pause, 0, 0, 250);
};
// `import { linkSync } from 'node:fs'` in the store sees the replacement only after this.
syncBuiltinESMExports();
