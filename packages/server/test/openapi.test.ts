import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { z } from 'zod';
import { allowAllPolicy } from '../src/auth/policy.js';
import type { Catalog } from '../src/catalog/catalog.js';
import { DEFAULT_ALLOWED_FILE_TYPES } from '../src/config.js';
import { createContextInner } from '../src/context.js';
import { type ErrorCode, errorCodes } from '../src/errors.js';
import { silentLogger } from '../src/logger.js';
import { restDocument, restRoutes } from '../src/openapi/index.js';
import type { OperationObject } from '../src/openapi/types.js';
import { createRestRouter, REST_BASE_PATH } from '../src/rest/index.js';
import { assetId, fileType, uploadId, workspaceId } from '../src/schemas.js';
import { assetKey, newAssetId } from '../src/storage/keys.js';
import type { ObjectStore } from '../src/storage/store.js';

const document = restDocument();

/** `GET /s3/start-upload` for every /s3 operation the document describes (the /uppy ones: uppy-openapi.test.ts). */
function documentedOperations(): string[] {
  return Object.entries(document.paths)
    .filter(([path]) => path.startsWith(`${REST_BASE_PATH}/`))
    .flatMap(([path, methods]) => Object.keys(methods).map((method) => `${method.toUpperCase()} ${path}`));
}

/** The same for every route the Express router really serves, read from its stack. */
function servedRoutes(): string[] {
  const deps = {
    store: {} as ObjectStore,
    catalog: {} as Catalog,
    policy: allowAllPolicy,
    uploads: { allowedFileTypes: DEFAULT_ALLOWED_FILE_TYPES },
    quotas: {},
    logger: silentLogger,
  };
  const router = createRestRouter(restRoutes, {
    logger: silentLogger,
    downloadIdleTimeoutMs: 60_000,
    createContext: () => createContextInner(deps),
  }) as unknown as { stack: Array<{ route?: { path: string; methods: Record<string, boolean> } }> };
  // Express spells a path parameter `:endpointId`, OpenAPI `{endpointId}`.
  const openApiPath = (path: string) => path.replace(/:([A-Za-z0-9]+)/g, '{$1}');
  return router.stack.flatMap((layer) =>
    layer.route
      ? Object.keys(layer.route.methods).map((method) => `${method.toUpperCase()} ${REST_BASE_PATH}${openApiPath(layer.route!.path)}`)
      : [],
  );
}

function operation(method: string, path: string): OperationObject {
  const found = document.paths[`${REST_BASE_PATH}${path}`]?.[method];
  if (!found) throw new Error(`no operation ${method} ${path}`);
  return found;
}

describe('the OpenAPI document of the /s3 paths', () => {
  it('is OpenAPI 3.1 with a bearer JWT scheme that is optional where authorization is not configured', () => {
    expect(document.openapi).toMatch(/^3\.1\.\d+$/);
    expect(document.components.securitySchemes.bearerAuth).toMatchObject({ type: 'http', scheme: 'bearer', bearerFormat: 'JWT' });
    expect(operation('get', '/start-upload').security).toEqual([{ bearerAuth: [] }, {}]);
    expect(operation('get', '/getBucketConfig').description).toMatch(/admin role/);
    expect(operation('get', '/openapi.json').security).toEqual([]);
  });

  it('documents every route the router serves, and serves every route it documents', () => {
    expect(servedRoutes().sort()).toEqual(documentedOperations().sort());
  });

  it('keeps every documented path of the contract, with the added ones', () => {
    expect(documentedOperations()).toEqual(
      expect.arrayContaining([
        'GET /s3/getBucketConfig',
        'POST /s3/updateBucketConfig',
        'GET /s3/start-upload',
        'GET /s3/get-upload-url',
        'POST /s3/complete-upload',
        'GET /s3/download',
        'DELETE /s3/delete',
        'GET /s3/list-parts',
        'DELETE /s3/abort-upload',
        'GET /s3/openapi.json',
      ]),
    );
  });

  it('names the parameters exactly as the contract spells them', () => {
    const names = (method: string, path: string) =>
      operation(method, path).parameters.map((parameter) => `${parameter.in}:${parameter.name}`);
    // The contract's two, then the added optional ones.
    expect(names('get', '/start-upload')).toEqual([
      'query:workspaceId',
      'query:fileType',
      'query:fileName',
      'query:fileSize',
      'query:checksumAlgorithm',
    ]);
    expect(
      operation('get', '/start-upload')
        .parameters.filter((parameter) => parameter.required)
        .map((parameter) => parameter.name),
    ).toEqual(['workspaceId', 'fileType']);
    expect(names('get', '/get-upload-url').sort()).toEqual([
      'query:PartNumber',
      'query:UploadId',
      'query:assetId',
      'query:checksumSha256',
      'query:workspaceId',
    ]);
    expect(
      operation('get', '/get-upload-url')
        .parameters.filter((parameter) => parameter.required)
        .map((parameter) => parameter.name)
        .sort(),
    ).toEqual(['PartNumber', 'UploadId', 'assetId', 'workspaceId']);
    expect(names('get', '/download').sort()).toEqual(['header:Range', 'query:key', 'query:workspaceId']);
    expect(names('delete', '/delete').sort()).toEqual(['query:key', 'query:workspaceId']);
    const body = operation('post', '/complete-upload').requestBody!.content['application/json']!.schema as any;
    expect(body.required.sort()).toEqual(['assetId', 'parts', 'uploadId', 'workspaceId']);
    expect(Object.keys(body.properties.parts.items.properties).sort()).toEqual(['ETag', 'PartNumber']);
    expect(operation('post', '/updateBucketConfig').requestBody!.required).toBe(false);
  });

  it('gives operation ids that are unique', () => {
    const ids = Object.values(document.paths).flatMap((methods) => Object.values(methods).map((op) => op.operationId));
    expect(new Set(ids).size).toBe(ids.length);
  });

  it("lists each route's error codes under their own status with the { error, code } body", () => {
    for (const route of restRoutes) {
      const responses = operation(route.method, route.path).responses;
      for (const code of route.errors) {
        const response = responses[String(errorCodes[code].status)];
        const schema = response?.content?.['application/json']?.schema as any;
        expect(schema?.properties?.code?.enum, `${route.operationId} ${code}`).toContain(code);
        expect(schema.required.sort()).toEqual(['code', 'error']);
        expect(schema.additionalProperties).toBe(false);
      }
      const documentedCodes = Object.entries(responses)
        .filter(([status]) => Number(status) >= 400)
        .flatMap(([, response]) => (response.content!['application/json']!.schema as any).properties.code.enum as string[]);
      expect(documentedCodes.sort()).toEqual([...route.errors].sort());
    }
  });

  it('documents every code the REST paths can answer with', () => {
    const documented = new Set(restRoutes.flatMap((route) => route.errors));
    // INVALID_SIGNATURE belongs to the local store's signed URLs, which are not /s3 paths;
    // REQUEST_TOO_LARGE bounds tRPC batches, and a REST request is one call (of one part at most).
    const notRest: ErrorCode[] = ['INVALID_SIGNATURE', 'REQUEST_TOO_LARGE'];
    const expected = (Object.keys(errorCodes) as ErrorCode[]).filter((code) => !notRest.includes(code));
    expect([...documented].sort()).toEqual(expected.sort());
    expect(operation('post', '/complete-upload').responses['400']!.description).toContain('UPLOAD_FAILED');
    expect(operation('get', '/download').responses['416']!.description).toContain('RANGE_NOT_SATISFIABLE');
  });

  it('describes the download as a byte stream with 200, 206 and its headers', () => {
    const responses = operation('get', '/download').responses;
    for (const status of ['200', '206']) {
      expect(Object.keys(responses[status]!.content!)).toContain('application/octet-stream');
      expect(Object.keys(responses[status]!.headers!)).toEqual(
        expect.arrayContaining(['Content-Length', 'ETag', 'Accept-Ranges', 'Content-Disposition']),
      );
    }
    expect(responses['206']!.headers!['Content-Range']).toBeDefined();
    expect(responses['200']!.headers!['Content-Range']).toBeUndefined();
  });

  it('links start-upload to the operations that continue the upload', () => {
    const links = operation('get', '/start-upload').responses['200']!.links!;
    expect(
      Object.values(links)
        .map((link) => link.operationId)
        .sort(),
    ).toEqual(['abortUpload', 'completeUpload', 'getUploadUrl', 'listParts']);
    expect(links.GetUploadUrl!.parameters).toMatchObject({ 'query.UploadId': '$response.body#/uploadId' });
  });
});

describe('parameter patterns say what the procedures accept', () => {
  const pattern = (method: string, path: string, name: string) => {
    const parameter = operation(method, path).parameters.find((candidate) => candidate.name === name);
    return new RegExp(parameter!.schema.pattern as string);
  };

  it.each([
    ['workspaceId', workspaceId, ['acme', 'a', 'A_b-9', '', '-a', '../x', 'a/b', 'a b', 'x'.repeat(129), 'é']],
    ['assetId', assetId, [newAssetId(), 'abc', '', '_x', 'a.b']],
    ['UploadId', uploadId, ['0123456789abcdef', 'a b', '~!', '']],
    ['fileType', fileType, ['image/png', 'text/plain; charset=utf-8', 'image/', 'text/html\r\nX: 1', 'a/b;c="d e"']],
  ] as Array<[string, z.ZodType, string[]]>)('%s', (name, schema, samples) => {
    const documented = pattern('get', name === 'workspaceId' || name === 'fileType' ? '/start-upload' : '/get-upload-url', name);
    for (const sample of samples) expect(documented.test(sample), JSON.stringify(sample)).toBe(schema.safeParse(sample).success);
  });

  it('key: exactly the asset keys of a workspace', () => {
    const key = pattern('get', '/download', 'key');
    expect(key.test(assetKey('acme', newAssetId()))).toBe(true);
    for (const bad of [
      'acme/digital_assets/',
      'acme/digital_assets/a/b',
      '../x/digital_assets/a',
      'acme/other/abc',
      '/acme/digital_assets/abc',
    ]) {
      expect(key.test(bad), bad).toBe(false);
    }
  });
});

describe('the README', () => {
  const readme = readFileSync(new URL('../../../README.md', import.meta.url), 'utf8');

  it('lists every error code with its status', () => {
    for (const [code, { status }] of Object.entries(errorCodes)) {
      expect(readme, code).toMatch(new RegExp(`^\\| \`${code}\` \\| ${status} \\|`, 'm'));
    }
  });

  it('links the document and the reference page', () => {
    expect(readme).toContain('/s3/openapi.json');
    expect(readme).toContain('/docs');
  });
});
