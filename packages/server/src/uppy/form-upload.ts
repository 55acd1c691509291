import busboy from 'busboy';
import type { Request } from 'express';
import { AppError } from '../errors.js';
import { cutIntoParts } from './part-chunker.js';

/** S3's smallest part but the last: the form's file is stored in parts of this size. */
export const FORM_PART_SIZE = 5 * 1024 * 1024;

/** Room for the form's envelope besides the file: boundaries, part headers, the small fields. */
const ENVELOPE_BYTES = 256 * 1024;

/** The fields Uppy sends ahead of the file (those `/params` gave it); others are ignored. */
export interface FormFields {
  key?: string;
  uploadId?: string;
}

export interface FormUploadHandlers {
  /** The most file bytes accepted. */
  limit: number;
  /** Called once the fields have arrived, before a byte of the file is read: may refuse them. */
  begin(fields: FormFields): Promise<void>;
  /** Stores one part; called in order, one at a time. */
  writePart(partNumber: number, body: Buffer): Promise<{ etag: string }>;
}

export interface ReceivedForm {
  parts: Array<{ partNumber: number; etag: string }>;
  /** Whether `begin` accepted the fields: from then on a failure must end the upload. */
  begun: boolean;
}

/**
 * Reads a `multipart/form-data` body as Uppy's small-file upload sends it (an S3 POST policy form:
 * fields, then `file` last) and writes the file into the upload part by part as it arrives. On
 * failure the error carries `begun`, so the caller knows whether the upload is its to end.
 */
export function receiveFormUpload(req: Request, handlers: FormUploadHandlers): Promise<ReceivedForm> {
  const state: ReceivedForm = { parts: [], begun: false };
  return new Promise<ReceivedForm>((resolve, reject) => {
    let parser: busboy.Busboy;
    try {
      parser = busboy({
        headers: req.headers,
        limits: { files: 1, fields: 32, fieldSize: 8 * 1024, parts: 40 },
      });
    } catch (error) {
      // No multipart content type, or no boundary.
      reject(new FormUploadError(new AppError('INVALID_PARAMETER', 'the body must be multipart/form-data', { cause: error }), state));
      return;
    }
    const fields: Record<string, string> = {};
    let consuming: Promise<void> | undefined;
    let settled = false;
    const fail = (error: unknown) => {
      if (settled) return;
      settled = true;
      req.unpipe(parser);
      reject(new FormUploadError(error, state));
    };

    parser.on('field', (name, value) => {
      if (name === 'key' || name === 'uploadId') fields[name] = value;
    });
    parser.on('file', (name, file) => {
      if (name !== 'file' || consuming) {
        file.resume();
        return;
      }
      consuming = (async () => {
        if (Number(req.headers['content-length'] ?? 0) > handlers.limit + ENVELOPE_BYTES) {
          await handlers.begin(fields);
          state.begun = true;
          throw new AppError('PAYLOAD_TOO_LARGE', `the file is larger than ${handlers.limit} bytes, the most this path takes`);
        }
        await handlers.begin(fields);
        state.begun = true;
        let partNumber = 0;
        for await (const body of cutIntoParts(file, FORM_PART_SIZE, handlers.limit)) {
          partNumber += 1;
          const { etag } = await handlers.writePart(partNumber, body);
          state.parts.push({ partNumber, etag });
        }
      })();
      consuming.catch((error: unknown) => {
        file.resume();
        fail(error);
      });
    });
    // busboy's own refusals (a malformed part header, a form cut short) are the sender's mistake.
    parser.on('error', (error: unknown) =>
      fail(new AppError('INVALID_PARAMETER', 'the body is not a well-formed multipart/form-data form', { cause: error })),
    );
    parser.on('close', () => {
      if (!consuming) return fail(new AppError('MISSING_PARAMETER', 'file: the form has no file field'));
      consuming.then(() => {
        if (settled) return;
        settled = true;
        resolve(state);
      }, fail);
    });
    // The client went away mid-body: busboy may never close, so the upload is ended here.
    req.once('close', () => {
      if (!req.complete) fail(new AppError('INVALID_PARAMETER', 'the client went away before the form was sent'));
    });
    req.pipe(parser);
  });
}

/** A failure of the form, with how far it got. */
export class FormUploadError extends Error {
  constructor(
    readonly reason: unknown,
    readonly state: ReceivedForm,
  ) {
    super('form upload failed', { cause: reason });
  }
}
