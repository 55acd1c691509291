import express, { type NextFunction, type Request, type Response, Router } from 'express';
import type { AccessPolicy } from '../auth/policy.js';
import type { AppContext } from '../context.js';
import { AppError, toAppError } from '../errors.js';
import { createServerCaller } from '../router/index.js';
import { UPPY_BASE_PATH } from '../router/uppy.js';
import type { CapabilityGrant, CapabilityIssuer } from './capability.js';
import { capabilityPolicy } from './capability-policy.js';
import { FormUploadError, receiveFormUpload } from './form-upload.js';
import { assetOfKey } from './key-binding.js';
import { UPPY_PATHS } from './paths.js';

/** Complete with 10,000 parts, as on /s3. */
const JSON_BODY_LIMIT = '2mb';
/** A refused form whose declared rest is no larger than this is read to its end, so the client sees the answer. */
const DRAIN_AFTER_REFUSAL_BYTES = 16 * 1024 * 1024;

export interface UppyDependencies {
  issuer: CapabilityIssuer;
  /** The store's bucket, for complete's `bucket` (Uppy passes it on to the app). */
  bucket: string;
  /** The most bytes a form upload (`/s3/form`) takes: UPPY_FORM_MAX_BYTES, and MAX_UPLOAD_BYTES when lower. */
  formMaxBytes: number;
  /** The app's context of one request, with the capability's policy in place of the app's. */
  createContext(req: Request, res: Response, policy: AccessPolicy): AppContext;
}

type Caller = ReturnType<typeof createServerCaller>;

/** What a handler works with: the capability's grant and a caller authorized by it alone. */
interface UppyExchange {
  grant: CapabilityGrant;
  caller: Caller;
  /** The endpoint this request came through, `<origin>/uppy/<capability>`, for URLs that point back at it. */
  endpoint: string;
}

/**
 * Companion's S3 protocol, as `@uppy/aws-s3` 6.x speaks it with `companionEndpoint`, over the
 * same procedures as /s3 and /trpc: each handler only translates HTTP to a procedure call and
 * back. The capability in the path is checked on every request; the key Uppy echoes must be an
 * asset key of its workspace.
 */
export function createUppyRouter(deps: UppyDependencies): Router {
  const router = Router();
  const json = express.json({ limit: JSON_BODY_LIMIT });

  // The capability is checked before anything else of the request runs, its JSON body parser included.
  router.param('capability', (_req, res, next, capability: string) => {
    deps.issuer.verify(capability).then((grant) => {
      res.locals.uppyGrant = grant;
      next();
    }, next);
  });

  const exchangeOf = (req: Request, res: Response): UppyExchange => {
    const capability = String(req.params.capability);
    const grant = res.locals.uppyGrant as CapabilityGrant;
    const origin = deps.issuer.publicUrl ?? `${req.protocol}://${req.host}`;
    return {
      grant,
      caller: createServerCaller(deps.createContext(req, res, capabilityPolicy(grant))),
      endpoint: `${origin}${UPPY_BASE_PATH}/${capability}`,
    };
  };

  /** One route: its handler gets the exchange, its errors become `{ error, code }` with Uppy's field names. */
  const route =
    (handle: (exchange: UppyExchange, req: Request, res: Response) => Promise<unknown>) =>
    async (req: Request, res: Response, next: NextFunction) => {
      try {
        const answer = await handle(exchangeOf(req, res), req, res);
        if (answer !== undefined) res.json(answer);
      } catch (error) {
        next(toAppError(error));
      }
    };

  router.post(
    UPPY_PATHS.createMultipart,
    json,
    route(async ({ grant, caller }, req) => {
      const body = jsonBody(req);
      // Not stored, but held to its documented shape: a caller must not think it was.
      if (body.metadata !== undefined && (typeof body.metadata !== 'object' || body.metadata === null || Array.isArray(body.metadata))) {
        throw new AppError('INVALID_PARAMETER', 'metadata: must be an object');
      }
      const input = { workspaceId: grant.workspaceId, fileName: body.filename, fileType: body.type };
      const started = await run(caller.upload.start, input, START_FIELDS);
      return { key: started.key, uploadId: started.uploadId, assetId: started.assetId };
    }),
  );

  // Before `/:partNumber`, which would take `batch` for a part number.
  router.get(
    UPPY_PATHS.signParts,
    route(async ({ grant, caller }, req) => {
      const assetId = assetOfKey(grant.workspaceId, req.query.key);
      const partNumbers = partNumberList(req.query.partNumbers);
      const input = { workspaceId: grant.workspaceId, assetId, uploadId: req.params.uploadId, partNumbers };
      const { parts } = await run(caller.upload.signParts, input);
      return { presignedUrls: Object.fromEntries(parts.map((part) => [String(part.partNumber), part.url])) };
    }),
  );

  router.get(
    UPPY_PATHS.signPart,
    route(async ({ grant, caller }, req) => {
      const assetId = assetOfKey(grant.workspaceId, req.query.key);
      const input = { workspaceId: grant.workspaceId, assetId, uploadId: req.params.uploadId, partNumber: digits(req.params.partNumber) };
      const { url, expiresIn } = await run(caller.upload.signPart, input);
      return { url, expires: expiresIn };
    }),
  );

  router.get(
    UPPY_PATHS.listParts,
    route(async ({ grant, caller }, req) => {
      const assetId = assetOfKey(grant.workspaceId, req.query.key);
      const { parts } = await caller.upload.listParts({ workspaceId: grant.workspaceId, assetId, uploadId: String(req.params.uploadId) });
      return parts.map((part) => ({ PartNumber: part.partNumber, ETag: part.etag, Size: part.size }));
    }),
  );

  router.post(
    UPPY_PATHS.completeMultipart,
    json,
    route(async ({ grant, caller }, req) => {
      const assetId = assetOfKey(grant.workspaceId, req.query.key);
      const parts = jsonBody(req).parts;
      const input = {
        workspaceId: grant.workspaceId,
        assetId,
        uploadId: req.params.uploadId,
        parts: Array.isArray(parts) ? parts.map(toProcedurePart) : parts,
      };
      const completed = await run(caller.upload.complete, input, { partNumber: 'PartNumber', etag: 'ETag' });
      return { location: completed.location, bucket: deps.bucket, key: completed.key, assetId };
    }),
  );

  router.delete(
    UPPY_PATHS.abortMultipart,
    route(async ({ grant, caller }, req) => {
      const assetId = assetOfKey(grant.workspaceId, req.query.key);
      await caller.upload.abort({ workspaceId: grant.workspaceId, assetId, uploadId: String(req.params.uploadId) });
      return {};
    }),
  );

  // Small files: the upload starts here, and its bytes come to /s3/form in the form Uppy builds
  // from this answer. A presigned POST straight to S3 would give us no completion step: no
  // catalogue record, no event, no type check and no quota judged on the real size.
  router.get(
    UPPY_PATHS.params,
    route(async ({ grant, caller, endpoint }, req) => {
      const input = { workspaceId: grant.workspaceId, fileName: req.query.filename, fileType: req.query.type };
      const started = await run(caller.upload.start, input, START_FIELDS);
      return { method: 'POST' as const, url: `${endpoint}/s3/form`, fields: { key: started.key, uploadId: started.uploadId } };
    }),
  );

  router.post(
    UPPY_PATHS.form,
    route(async (exchange, req, res) => {
      const { location, key, assetId, etag } = await storeForm(exchange, req, res, deps.formMaxBytes);
      res.status(201).set('ETag', etag).json({ location, bucket: deps.bucket, key, assetId });
      return undefined;
    }),
  );

  return router;
}

/**
 * The form's file, written into its upload part by part, then completed through the procedure
 * like any upload. Once the fields named the upload, any failure (too large, the wrong type, the
 * client gone) ends it, so nothing is left behind.
 */
async function storeForm({ grant, caller }: UppyExchange, req: Request, res: Response, limit: number) {
  const workspaceId = grant.workspaceId;
  let assetId = '';
  let uploadId = '';
  try {
    const { parts } = await receiveFormUpload(req, {
      limit,
      begin: async (fields) => {
        if (!fields.uploadId) throw new AppError('MISSING_PARAMETER', 'uploadId: is required (a field ahead of file)');
        assetId = assetOfKey(workspaceId, fields.key);
        uploadId = fields.uploadId;
      },
      writePart: (partNumber, body) => caller.parts.writePart({ workspaceId, assetId, uploadId, partNumber, body }),
    });
    const completed = await caller.upload.complete({ workspaceId, assetId, uploadId, parts });
    return { location: completed.location, key: completed.key, assetId, etag: completed.etag };
  } catch (error) {
    const reason = error instanceof FormUploadError ? error.reason : error;
    const begun = error instanceof FormUploadError ? error.state.begun : true;
    if (begun && uploadId) await caller.upload.abort({ workspaceId, assetId, uploadId }).catch(() => {});
    settleUnreadBody(req, res);
    throw reason;
  }
}

/**
 * A form refused before its end: the rest of a small body is read and dropped, so the client gets
 * to read the answer; a large one is cut once the answer is out, instead of being read for nothing.
 */
function settleUnreadBody(req: Request, res: Response): void {
  if (req.complete) return;
  const declared = Number(req.headers['content-length'] ?? Number.POSITIVE_INFINITY);
  if (declared - req.socket.bytesRead <= DRAIN_AFTER_REFUSAL_BYTES) {
    req.resume();
    return;
  }
  res.setHeader('Connection', 'close');
  res.once('finish', () => req.destroy());
}

/** How Uppy spells upload.start's fields. */
const START_FIELDS = { fileName: 'filename', fileType: 'type' };

/** Runs a procedure on input gathered from Uppy's request; schema errors name the fields as Uppy does. */
async function run<T>(
  // biome-ignore lint/suspicious/noExplicitAny: the input is as Uppy sent it; the procedure's own schema validates it
  procedure: (input: any) => Promise<T>,
  input: Record<string, unknown>,
  fieldNames: Record<string, string> = {},
): Promise<T> {
  try {
    return await procedure(input);
  } catch (error) {
    throw toAppError(error, { input, fieldNames });
  }
}

function jsonBody(req: Request): Record<string, unknown> {
  const body: unknown = req.body;
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new AppError('INVALID_PARAMETER', 'request body must be a JSON object');
  }
  return body as Record<string, unknown>;
}

/** Digits become a number; anything else is passed on for the procedure to refuse as malformed. */
function digits(raw: unknown): unknown {
  return typeof raw === 'string' && /^[0-9]{1,15}$/.test(raw) ? Number(raw) : raw;
}

/** `1,2,3` as Companion's batch signing sends it. */
function partNumberList(raw: unknown): unknown {
  if (raw === undefined || raw === '') throw new AppError('MISSING_PARAMETER', 'partNumbers: is required');
  if (typeof raw !== 'string') throw new AppError('INVALID_PARAMETER', 'partNumbers: must be given once, as 1,2,3');
  return raw.split(',').map(digits);
}

/** `{ PartNumber, ETag }` as Uppy sends them, to the procedure's `{ partNumber, etag }`. */
function toProcedurePart(part: unknown): unknown {
  if (typeof part !== 'object' || part === null) return part;
  const { ETag, PartNumber } = part as Record<string, unknown>;
  return { etag: ETag, partNumber: PartNumber };
}
