import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AccessPolicy } from '../src/auth/policy.js';
import { openPgliteCatalog } from '../src/catalog/pglite.js';
import { DEFAULT_ALLOWED_FILE_TYPES } from '../src/config.js';
import { type CallHooks, type ContextDependencies, createContextInner } from '../src/context.js';
import { AppError } from '../src/errors.js';
import { silentLogger } from '../src/logger.js';
import { appRouter } from '../src/router/index.js';
import { createCallerFactory } from '../src/trpc.js';
import { type LocalHarness, startLocalHarness } from './support/local-harness.js';

const createCaller = createCallerFactory(appRouter);

/** A policy that lets a caller use only the workspace its `x-workspace` header names. */
const headerPolicy: AccessPolicy = {
  authorizeWorkspace: (caller, workspaceId) => {
    if (caller.headers['x-workspace'] !== workspaceId) throw new AppError('FORBIDDEN', 'not your workspace');
  },
  authorizeAdmin: () => {
    throw new AppError('FORBIDDEN', 'no admins here');
  },
};

/** Procedures called in process, without HTTP: the context is createContextInner's. */
describe('the router through createCaller', () => {
  let harness: LocalHarness;
  let deps: ContextDependencies;
  const told: string[] = [];
  const hooks: CallHooks = {
    noteWorkspace: (workspaceId) => {
      told.push(`note ${workspaceId}`);
    },
    spendWorkspaceBudget: async (workspaceId) => {
      told.push(`spend ${workspaceId}`);
    },
  };

  beforeAll(async () => {
    harness = await startLocalHarness();
    deps = {
      store: harness.store,
      catalog: await openPgliteCatalog(),
      policy: headerPolicy,
      uploads: { allowedFileTypes: DEFAULT_ALLOWED_FILE_TYPES },
      quotas: {},
      logger: silentLogger,
    };
  });
  afterAll(async () => {
    await deps?.catalog.close();
    await harness?.close();
  });

  const callerOf = (workspace: string) =>
    createCaller(createContextInner(deps, { caller: { headers: { 'x-workspace': workspace } }, hooks }));

  it('runs an upload from start to listing, and tells the transport the workspace once authorized', async () => {
    told.length = 0;
    const caller = callerOf('ws-router');
    const started = await caller.upload.start({ workspaceId: 'ws-router', fileType: 'image/png' });
    const { parts } = await caller.upload.signParts({ ...started, workspaceId: 'ws-router', partNumbers: [1] });
    const put = await fetch(parts[0]!.url, { method: 'PUT', body: new Uint8Array([1, 2, 3]) });
    expect(put.status).toBe(200);
    const completed = await caller.upload.complete({
      ...started,
      workspaceId: 'ws-router',
      parts: [{ partNumber: 1, etag: put.headers.get('etag')! }],
    });
    expect(completed).toMatchObject({ success: true, key: started.key });
    const head = await caller.object.head({ workspaceId: 'ws-router', key: started.key });
    expect(head).toMatchObject({ key: started.key, size: 3, contentType: 'image/png' });
    // signParts spends the signed-URL budget (when one is configured), not a call.
    expect(told).toEqual([
      ...['note ws-router', 'spend ws-router'],
      'note ws-router',
      ...Array.from({ length: 2 }, () => ['note ws-router', 'spend ws-router']).flat(),
    ]);
  });

  it("refuses another workspace before its input reaches the store, and spends no one's budget", async () => {
    told.length = 0;
    await expect(callerOf('ws-mine').upload.start({ workspaceId: 'ws-theirs', fileType: 'image/png' })).rejects.toMatchObject({
      appCode: 'FORBIDDEN',
    });
    expect(told).toEqual([]);
  });

  it('validates input with the procedure schemas', async () => {
    await expect(callerOf('ws-router').upload.start({ workspaceId: 'ws-router', fileType: 'not a type' })).rejects.toMatchObject({
      code: 'BAD_REQUEST',
    });
  });

  it('works without hooks and without a caller: an anonymous call of an open policy', async () => {
    const open = createCaller(createContextInner({ ...deps, policy: { authorizeWorkspace: () => {}, authorizeAdmin: () => {} } }));
    expect(await open.object.list({ workspaceId: 'ws-empty' })).toEqual({ objects: [], nextCursor: null });
  });
});
