// A build starts from an empty dist, so no file of an earlier build (a module since removed) is
// packed with this one.
import { rmSync } from 'node:fs';

rmSync(new URL('../dist', import.meta.url), { recursive: true, force: true });
