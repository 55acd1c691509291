// Fault injection for process tests, loaded into the API with NODE_OPTIONS=--import=<this file>:
// the process SIGKILLs itself right after the file-system call that CRASH_AT describes, so a test
// can leave the data folder exactly as a power cut at that point would. CRASH_AT is JSON:
//   { "call": "rename" | "rm" | "linkSync" | "unlinkSync", "from"?: regex, "to"?: regex, "nth"?: n }
// `from` is matched against the call's (first) path, `to` against a rename's or link's new path,
// both relative to STORAGE_DIR ("tmp/<id>", "blobs/<id>", "meta/<key>.json"); the nth matching
// call (1 by default) is the one that crashes. Nothing else in the process changes.
import fs from 'node:fs';
import { syncBuiltinESMExports } from 'node:module';
import { relative, resolve } from 'node:path';

const spec = JSON.parse(process.env.CRASH_AT ?? 'null');
if (spec) {
  const root = resolve(process.env.STORAGE_DIR ?? '.');
  const from = spec.from === undefined ? undefined : new RegExp(spec.from);
  const to = spec.to === undefined ? undefined : new RegExp(spec.to);
  let left = spec.nth ?? 1;

  const inFolder = (path) => relative(root, resolve(String(path)));
  const matches = (first, second) =>
    (from === undefined || from.test(inFolder(first))) && (to === undefined || (second !== undefined && to.test(inFolder(second))));
  const afterCall = (first, second) => {
    if (!matches(first, second)) return;
    left -= 1;
    // SIGKILL to itself lands before the next JavaScript statement runs: no handler, no flush.
    if (left === 0) process.kill(process.pid, 'SIGKILL');
  };

  const wrapAsync = (target, name) => {
    const original = target[name];
    target[name] = async (...args) => {
      const result = await original(...args);
      afterCall(args[0], args[1]);
      return result;
    };
  };
  const wrapSync = (target, name) => {
    const original = target[name];
    target[name] = (...args) => {
      const result = original(...args);
      afterCall(args[0], args[1]);
      return result;
    };
  };

  if (spec.call === 'rename' || spec.call === 'rm') wrapAsync(fs.promises, spec.call);
  else if (spec.call === 'linkSync' || spec.call === 'unlinkSync') wrapSync(fs, spec.call);
  else throw new Error(`CRASH_AT: no such call: ${spec.call}`);
  // `import { rename } from 'node:fs/promises'` in the store sees the replacement only after this.
  syncBuiltinESMExports();
}
