#!/usr/bin/env node
// Checks the built package for what an installed copy could not satisfy, and for what a browser
// bundle must never get:
//  - an import (JavaScript, declaration, or `/// <reference types>`) of a package this one does not
//    declare as a dependency: the private @s3-service/server above all, whose types the build
//    bundles into contract.d.ts;
//  - a Node module anywhere reachable from the browser entry (index.js), statically imported;
//  - Node's types pulled into the browser entry's declarations.
// Usage: node scripts/check-dist.mjs <dist folder>; exits 1 and lists the problems otherwise.
import { readdir, readFile } from 'node:fs/promises';
import { builtinModules } from 'node:module';
import { dirname, join, relative, resolve } from 'node:path';

const dist = resolve(process.argv[2] ?? 'dist');
const manifest = JSON.parse(await readFile(new URL('../package.json', import.meta.url), 'utf8'));
const declared = new Set([...Object.keys(manifest.dependencies ?? {}), ...Object.keys(manifest.peerDependencies ?? {})]);
const nodeModules = new Set(builtinModules);
const isNodeModule = (specifier) => specifier.startsWith('node:') || nodeModules.has(specifier.split('/')[0]);
const packageName = (specifier) =>
  specifier
    .split('/')
    .slice(0, specifier.startsWith('@') ? 2 : 1)
    .join('/');

// Static `import ... from '...'`, `export ... from '...'` and bare `import '...'`; not `import(...)`.
const staticImport = /^\s*(?:import|export)\s+(?:[^'"()]*?\s+from\s+)?['"]([^'"]+)['"]/gm;
// Every way a file can name another: the above, `import('...')` (also in types) and type references.
const anyImport = /(?:from\s+|import\s*\(\s*|import\s+)['"]([^'"]+)['"]|\/\/\/\s*<reference\s+types=["']([^"']+)["']/g;

const problems = [];

async function files(dir) {
  const entries = await readdir(dir, { withFileTypes: true });
  const nested = await Promise.all(entries.map((entry) => (entry.isDirectory() ? files(join(dir, entry.name)) : [join(dir, entry.name)])));
  return nested.flat();
}

for (const file of (await files(dist)).filter((name) => name.endsWith('.js') || name.endsWith('.d.ts'))) {
  const code = await readFile(file, 'utf8');
  for (const [, imported, referenced] of code.matchAll(anyImport)) {
    const specifier = imported ?? referenced;
    if (specifier.startsWith('.') || isNodeModule(specifier)) continue;
    // Node's own types (`/// <reference types="node" />`) are judged by the browser walk below.
    if (referenced === 'node') continue;
    if (!declared.has(packageName(specifier))) {
      problems.push(`${relative(dist, file)} imports ${specifier}, which is not a dependency of ${manifest.name}`);
    }
  }
}

/** Walks relative imports from `entry`, reporting Node modules (and, for .d.ts, Node type references). */
async function walk(entry, declarations) {
  const seen = new Set();
  const queue = [entry];
  while (queue.length > 0) {
    const file = queue.pop();
    if (seen.has(file)) continue;
    seen.add(file);
    const code = await readFile(file, 'utf8');
    if (declarations && /\/\/\/\s*<reference\s+types=["']node["']/.test(code)) {
      problems.push(`${relative(dist, file)} (reached from ${relative(dist, entry)}) references Node's types`);
    }
    for (const [, specifier] of code.matchAll(staticImport)) {
      if (isNodeModule(specifier)) problems.push(`${relative(dist, file)} (reached from ${relative(dist, entry)}) imports ${specifier}`);
      else if (specifier.startsWith('.'))
        queue.push(resolve(dirname(file), declarations ? specifier.replace(/\.js$/, '.d.ts') : specifier));
    }
  }
  return seen.size;
}

const reached = await walk(join(dist, 'index.js'), false);
await walk(join(dist, 'index.d.ts'), true);

if (problems.length > 0) {
  console.error(`dist check failed:\n  ${problems.join('\n  ')}`);
  process.exit(1);
}
console.log(`dist check passed: ${reached} modules reachable from index.js, none imports Node; every import is a declared dependency`);
