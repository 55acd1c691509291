import { z } from 'zod';
import { CHECKSUM_ALGORITHMS, SHA256_BASE64 } from './storage/checksum.js';

/** Parts of a multipart upload, as S3 numbers them. */
export const MAX_PARTS = 10_000;

/**
 * Workspace ids become the first segment of every key, so they are held to a charset that can
 * never spell a path separator, a dot segment or a header-breaking character.
 */
export const workspaceId = z.string({ error: 'must be a string' }).regex(/^[A-Za-z0-9][A-Za-z0-9_-]{0,127}$/, {
  error: 'must be 1-128 characters of A-Z, a-z, 0-9, "_" or "-", starting with a letter or digit',
});

/** Asset ids are created by the server; callers only echo them back. */
export const assetId = z
  .string({ error: 'must be a string' })
  .regex(/^[A-Za-z0-9][A-Za-z0-9_-]{0,127}$/, { error: 'must be an asset id returned by start-upload' });

/** Upload ids come from the store (S3 ids are long opaque strings), so only printable ASCII. */
export const uploadId = z
  .string({ error: 'must be a string' })
  .min(1, { error: 'must not be empty' })
  .max(1024, { error: 'must be at most 1024 characters' })
  .regex(/^[\x21-\x7e]+$/, { error: 'must be printable ASCII without spaces' });

export const partNumber = z
  .number({ error: `must be an integer from 1 to ${MAX_PARTS}` })
  .int({ error: `must be an integer from 1 to ${MAX_PARTS}` })
  .min(1, { error: `must be an integer from 1 to ${MAX_PARTS}` })
  .max(MAX_PARTS, { error: `must be an integer from 1 to ${MAX_PARTS}` });

const mimeToken = '[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}';
const mimeParameter = `;\\s?${mimeToken}=(?:${mimeToken}|"[\\x20-\\x21\\x23-\\x5b\\x5d-\\x7e]{0,128}")`;

/** A MIME type as a Content-Type header value: no CR, LF or other header-breaking characters. */
export const fileType = z
  .string({ error: 'must be a string' })
  .max(255, { error: 'must be at most 255 characters' })
  .regex(new RegExp(`^${mimeToken}/${mimeToken}(?:${mimeParameter}){0,4}$`), {
    error: 'must be a MIME type such as image/png',
  });

/** S3's largest part, 5 GiB. */
export const MAX_PART_BYTES = 5 * 1024 ** 3;

export const partSize = z
  .number({ error: 'must be a number of bytes' })
  .int({ error: 'must be a whole number of bytes' })
  .min(0, { error: 'must not be negative' })
  .max(MAX_PART_BYTES, { error: 'must be at most 5 GiB' });

/** Object keys are checked against the workspace by `parseAssetKey`; here only their shape. */
export const objectKey = z
  .string({ error: 'must be a string' })
  .min(1, { error: 'must not be empty' })
  .max(1024, { error: 'must be at most 1024 characters' });

export const etag = z
  .string({ error: 'must be a string' })
  .min(1, { error: 'must not be empty' })
  .max(256, { error: 'must be at most 256 characters' })
  .regex(/^[\x20-\x7e]+$/, { error: 'must be printable ASCII' });

/** Seconds a signed URL stays valid; the documented default is one hour. */
export const expiresIn = z
  .number({ error: 'must be a number of seconds' })
  .int({ error: 'must be a whole number of seconds' })
  .min(1, { error: 'must be at least 1 second' })
  .max(7 * 24 * 3600, { error: 'must be at most 7 days' });

export const corsRule = z.object({
  ID: z.string().max(255).optional(),
  AllowedMethods: z.array(z.enum(['GET', 'PUT', 'POST', 'DELETE', 'HEAD'])).min(1),
  AllowedOrigins: z.array(z.string().min(1).max(1024)).min(1),
  AllowedHeaders: z.array(z.string().min(1).max(1024)).optional(),
  ExposeHeaders: z.array(z.string().min(1).max(1024)).optional(),
  MaxAgeSeconds: z
    .number()
    .int()
    .min(0)
    .max(86_400 * 30)
    .optional(),
});

export type CorsRule = z.infer<typeof corsRule>;

/** S3 counts lifecycle days from the upload's start; a day is the smallest step it knows. */
export const uploadExpiryDays = z
  .number({ error: 'must be a whole number of days from 1 to 3650' })
  .int({ error: 'must be a whole number of days from 1 to 3650' })
  .min(1, { error: 'must be a whole number of days from 1 to 3650' })
  .max(3650, { error: 'must be a whole number of days from 1 to 3650' });

/**
 * Text the catalogue stores or searches with. PostgreSQL text cannot hold NUL, and a statement
 * given one fails (a 500): refused here as a 400. A pattern, so the OpenAPI document says it too.
 */
export const catalogText = () =>
  z
    .string({ error: 'must be a string' })
    // biome-ignore lint/suspicious/noControlCharactersInRegex: NUL is the very character refused
    .regex(/^[^\u0000]*$/, { error: 'must not contain NUL characters' });

/** Characters that would let a name rewrite how it reads: bidirectional overrides and isolates (RTL tricks). */
const BIDI_CONTROLS = /[\u202a-\u202e\u2066-\u2069\u200e\u200f\u061c]/u;

/**
 * The file name a user gave an asset, as it is served back in Content-Disposition. It is a name,
 * never a path: no separators, no dot segments, no control characters (C0, C1, DEL) and no
 * bidirectional controls, which could make `gpj.exe` read as `exe.jpg`.
 */
export const fileName = z
  .string({ error: 'must be a string' })
  .min(1, { error: 'must not be empty' })
  .max(255, { error: 'must be at most 255 characters' })
  .refine((name) => !/[\p{Cc}]/u.test(name), { error: 'must not contain control characters' })
  .refine((name) => !BIDI_CONTROLS.test(name), { error: 'must not contain bidirectional control characters' })
  .refine((name) => !/[/\\]/.test(name), { error: 'must be a file name, without / or \\' })
  .refine((name) => name !== '.' && name !== '..', { error: 'must be a file name, not . or ..' })
  .refine((name) => name.trim() === name, { error: 'must not start or end with spaces' })
  .refine((name) => Buffer.byteLength(name) <= 1024, { error: 'must be at most 1024 bytes in UTF-8' });

/** S3's largest object, 5 TiB. */
export const MAX_OBJECT_BYTES = 5 * 1024 ** 4;

export const fileSize = z
  .number({ error: 'must be a number of bytes' })
  .int({ error: 'must be a whole number of bytes' })
  .min(0, { error: 'must not be negative' })
  .max(MAX_OBJECT_BYTES, { error: 'must be at most 5 TiB' });

/** Parts are checksummed with SHA-256 (the only algorithm offered: see storage/checksum.ts). */
export const checksumAlgorithm = z.enum(CHECKSUM_ALGORITHMS, { error: `must be ${CHECKSUM_ALGORITHMS.join(' or ')}` });

/** A part's checksum as S3 spells it: the base64 of its SHA-256. */
export const partChecksum = z
  .string({ error: 'must be a string' })
  .regex(SHA256_BASE64, { error: "must be the base64 of the part's SHA-256 (44 characters)" });
