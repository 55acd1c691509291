import { describe, expect, it } from 'vitest';
import { restDocument } from '../src/openapi/index.js';
import { UPPY_BASE_PATH } from '../src/router/uppy.js';
import { createCapabilityIssuer } from '../src/uppy/capability.js';
import { createUppyRouter } from '../src/uppy/routes.js';

const document = restDocument();

describe("the OpenAPI document of Uppy's paths", () => {
  it('documents every route the Uppy router serves, and serves every route it documents', () => {
    const router = createUppyRouter({
      issuer: createCapabilityIssuer(),
      bucket: 'b',
      formMaxBytes: 1,
      createContext: () => {
        throw new Error('not called');
      },
    }) as unknown as { stack: Array<{ route?: { path: string; methods: Record<string, boolean> } }> };
    const served = router.stack.flatMap((layer) =>
      layer.route
        ? Object.keys(layer.route.methods).map(
            (method) => `${method.toUpperCase()} ${UPPY_BASE_PATH}${layer.route!.path.replace(/:([A-Za-z]+)/g, '{$1}')}`,
          )
        : [],
    );
    const documented = Object.entries(document.paths)
      .filter(([path]) => path.startsWith(`${UPPY_BASE_PATH}/`))
      .flatMap(([path, methods]) => Object.keys(methods).map((method) => `${method.toUpperCase()} ${path}`));
    expect(served.sort()).toEqual(documented.sort());
    expect(documented).toContain('GET /uppy/{capability}/s3/multipart/{uploadId}/{partNumber}');
  });

  it('names the capability as a path parameter, needs no bearer token, and lists the error answers', () => {
    const create = document.paths['/uppy/{capability}/s3/multipart']!.post!;
    expect(create.tags).toEqual(['uppy']);
    expect(create.security).toEqual([]);
    expect(create.parameters).toContainEqual(expect.objectContaining({ name: 'capability', in: 'path', required: true }));
    expect(Object.keys(create.responses)).toEqual(expect.arrayContaining(['200', '400', '401', '403', '429', '502']));
    const form = document.paths['/uppy/{capability}/s3/form']!.post!;
    expect(form.requestBody?.content['multipart/form-data']).toBeDefined();
    expect(Object.keys(form.responses)).toEqual(expect.arrayContaining(['201', '413', '415']));
    expect(document.tags.map((tag) => tag.name)).toContain('uppy');
    expect(document.paths['/s3/uppy-capability']!.post!.operationId).toBe('mintUppyCapability');
  });
});
