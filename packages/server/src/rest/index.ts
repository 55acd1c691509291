import express, { type Request, type Response, Router } from 'express';
import { toAppError } from '../errors.js';
import type { AppDependencies } from '../http/context.js';
import { createRequestContext } from '../http/context.js';
import { createServerCaller } from '../router/index.js';
import { sendObject } from './download.js';
import { bodyField, integerParam, queryParam } from './params.js';
import { parseRangeHeader } from './range.js';

type ServerCaller = ReturnType<typeof createServerCaller>;

/** REST spells some fields differently from the procedures; errors name them as the caller did. */
const restFieldNames = { partNumber: 'PartNumber', etag: 'ETag' } as const;
const queryFieldNames = { ...restFieldNames, uploadId: 'UploadId' } as const;

/** Complete-upload with 10,000 parts is about 700 KB of JSON. */
const JSON_BODY_LIMIT = '2mb';

/**
 * The documented /s3 paths. Each handler only translates HTTP to a procedure call and back:
 * validation, authorization and storage happen in the procedures.
 */
export function createRestRouter(deps: AppDependencies): Router {
  const rest = Router();
  const json = express.json({ limit: JSON_BODY_LIMIT });

  const call = async <T>(
    req: Request,
    res: Response,
    input: Record<string, unknown>,
    fieldNames: Readonly<Record<string, string>>,
    procedure: (caller: ServerCaller, input: never) => Promise<T>,
  ): Promise<T> => {
    const caller = createServerCaller(createRequestContext(deps, req, res));
    try {
      // The procedure's schema validates `input`; REST only renamed the fields.
      return await procedure(caller, input as never);
    } catch (error) {
      throw toAppError(error, { input, fieldNames });
    }
  };

  rest.get('/getBucketConfig', async (req, res) => {
    res.json(await call(req, res, {}, {}, (caller) => caller.bucket.getCors()));
  });

  // No body applies the documented defaults; `{ "CORSRules": [...] }` sets custom rules (added).
  rest.post('/updateBucketConfig', json, async (req, res) => {
    const rules = bodyField(req, 'CORSRules');
    const input = rules === undefined ? {} : { rules };
    res.json(await call(req, res, input, { rules: 'CORSRules' }, (caller, i) => caller.bucket.updateCors(i)));
  });

  rest.get('/start-upload', async (req, res) => {
    const input = { workspaceId: queryParam(req, 'workspaceId'), fileType: queryParam(req, 'fileType') };
    const { uploadId, assetId } = await call(req, res, input, {}, (caller, i) => caller.upload.start(i));
    res.json({ uploadId, assetId });
  });

  rest.get('/get-upload-url', async (req, res) => {
    const input = {
      workspaceId: queryParam(req, 'workspaceId'),
      assetId: queryParam(req, 'assetId'),
      uploadId: queryParam(req, 'UploadId'),
      partNumber: integerParam(req, 'PartNumber'),
    };
    const { url, expiresIn } = await call(req, res, input, queryFieldNames, (caller, i) => caller.upload.signPart(i));
    res.json({ url, expiresIn });
  });

  rest.post('/complete-upload', json, async (req, res) => {
    const parts = bodyField(req, 'parts');
    const input = {
      workspaceId: bodyField(req, 'workspaceId'),
      assetId: bodyField(req, 'assetId'),
      uploadId: bodyField(req, 'uploadId'),
      parts: Array.isArray(parts) ? parts.map(toProcedurePart) : parts,
    };
    const { location, key } = await call(req, res, input, restFieldNames, (caller, i) => caller.upload.complete(i));
    res.json({ success: true, location, key });
  });

  rest.get('/download', async (req, res) => {
    const input = {
      workspaceId: queryParam(req, 'workspaceId'),
      key: queryParam(req, 'key'),
      range: parseRangeHeader(req.headers.range),
    };
    const object = await call(req, res, input, {}, (caller, i) => caller.download.open(i));
    await sendObject(res, object, deps.logger);
  });

  rest.delete('/delete', async (req, res) => {
    const input = { workspaceId: queryParam(req, 'workspaceId'), key: queryParam(req, 'key') };
    await call(req, res, input, {}, (caller, i) => caller.object.delete(i));
    res.json({ success: true });
  });

  // Added paths (the spec allows additions): resume and cancel for callers without tRPC.
  rest.get('/list-parts', async (req, res) => {
    const input = {
      workspaceId: queryParam(req, 'workspaceId'),
      assetId: queryParam(req, 'assetId'),
      uploadId: queryParam(req, 'UploadId'),
    };
    const { parts } = await call(req, res, input, queryFieldNames, (caller, i) => caller.upload.listParts(i));
    res.json({ parts: parts.map((part) => ({ PartNumber: part.partNumber, ETag: part.etag, Size: part.size })) });
  });

  rest.delete('/abort-upload', async (req, res) => {
    const input = {
      workspaceId: queryParam(req, 'workspaceId'),
      assetId: queryParam(req, 'assetId'),
      uploadId: queryParam(req, 'UploadId'),
    };
    await call(req, res, input, queryFieldNames, (caller, i) => caller.upload.abort(i));
    res.json({ success: true });
  });

  return rest;
}

/** `{ ETag, PartNumber }` as documented, to the procedure's `{ etag, partNumber }`. */
function toProcedurePart(part: unknown): unknown {
  if (typeof part !== 'object' || part === null) return part;
  const { ETag, PartNumber } = part as Record<string, unknown>;
  return { etag: ETag, partNumber: PartNumber };
}
