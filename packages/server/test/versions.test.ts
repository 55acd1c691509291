import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { restDocument } from '../src/openapi/index.js';

const repoRoot = fileURLToPath(new URL('../../..', import.meta.url));

/** Every package of the workspace (pnpm-workspace.yaml: packages/*, apps/*, bench) with its version. */
function workspaceVersions(): Record<string, string> {
  const folders = ['packages', 'apps'].flatMap((parent) => readdirSync(join(repoRoot, parent)).map((name) => join(parent, name)));
  return Object.fromEntries(
    [...folders, 'bench'].map((folder) => {
      const manifest = JSON.parse(readFileSync(join(repoRoot, folder, 'package.json'), 'utf8')) as { name: string; version: string };
      return [manifest.name, manifest.version];
    }),
  );
}

describe('versions', () => {
  it('agree: every package and the OpenAPI document carry the one product version', () => {
    const versions = workspaceVersions();
    expect(Object.keys(versions).sort()).toEqual([
      '@s3-service/api',
      '@s3-service/bench',
      '@s3-service/client',
      '@s3-service/server',
      '@s3-service/uppy-demo',
      '@s3-service/web',
    ]);
    const product = versions['@s3-service/server'];
    expect(product).toMatch(/^\d+\.\d+\.\d+$/);
    expect(new Set(Object.values(versions))).toEqual(new Set([product]));
    expect(restDocument().info.version).toBe(product);
  });
});
