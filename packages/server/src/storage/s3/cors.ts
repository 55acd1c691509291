import { type CORSRule, DeleteBucketCorsCommand, GetBucketCorsCommand, PutBucketCorsCommand } from '@aws-sdk/client-s3';
import type { CorsRule } from '../../schemas.js';
import type { S3Context } from './context.js';
import { type ExpectedFailures, toStoreError } from './errors.js';

type CorsMethod = CorsRule['AllowedMethods'][number];
const CORS_METHODS: ReadonlySet<string> = new Set<CorsMethod>(['GET', 'PUT', 'POST', 'DELETE', 'HEAD']);

/**
 * S3-compatible servers without the bucket CORS API (MinIO answers 501 NotImplemented to
 * PutBucketCors and DeleteBucketCors) apply CORS of their own: the operator configures it there.
 */
const NO_BUCKET_CORS_API = {
  message:
    "this S3 server has no bucket CORS API; configure CORS on the server itself (MinIO: its server-wide 'api cors_allow_origin' setting)",
  code: 'NOT_SUPPORTED',
} as const;
const CORS_FAILURES: ExpectedFailures = { NotImplemented: NO_BUCKET_CORS_API, '501': NO_BUCKET_CORS_API };

export async function getCorsRules(s3: S3Context): Promise<CorsRule[]> {
  try {
    const output = await s3.client.send(new GetBucketCorsCommand({ Bucket: s3.bucket }));
    return (output.CORSRules ?? []).map(fromS3Rule);
  } catch (error) {
    // A bucket that never had CORS rules answers with an error, not an empty list.
    if (error instanceof Error && error.name === 'NoSuchCORSConfiguration') return [];
    throw toStoreError(error, 'GetBucketCors', CORS_FAILURES);
  }
}

export async function putCorsRules(s3: S3Context, rules: readonly CorsRule[]): Promise<void> {
  try {
    // S3 refuses a CORS configuration without rules (MalformedXML); "no rules" is a delete.
    if (rules.length === 0) {
      await s3.client.send(new DeleteBucketCorsCommand({ Bucket: s3.bucket }));
      return;
    }
    await s3.client.send(new PutBucketCorsCommand({ Bucket: s3.bucket, CORSConfiguration: { CORSRules: rules.map(toS3Rule) } }));
  } catch (error) {
    throw toStoreError(error, rules.length === 0 ? 'DeleteBucketCors' : 'PutBucketCors', CORS_FAILURES);
  }
}

function toS3Rule(rule: CorsRule): CORSRule {
  return {
    ID: rule.ID,
    AllowedMethods: [...rule.AllowedMethods],
    AllowedOrigins: [...rule.AllowedOrigins],
    AllowedHeaders: rule.AllowedHeaders ? [...rule.AllowedHeaders] : undefined,
    ExposeHeaders: rule.ExposeHeaders ? [...rule.ExposeHeaders] : undefined,
    MaxAgeSeconds: rule.MaxAgeSeconds,
  };
}

/** Only the fields S3 returned, so a rule reads back exactly as it was written. */
function fromS3Rule(rule: CORSRule): CorsRule {
  const result: CorsRule = {
    AllowedMethods: (rule.AllowedMethods ?? []).filter((method): method is CorsMethod => CORS_METHODS.has(method)),
    AllowedOrigins: rule.AllowedOrigins ?? [],
  };
  if (rule.ID !== undefined) result.ID = rule.ID;
  if (rule.AllowedHeaders?.length) result.AllowedHeaders = rule.AllowedHeaders;
  if (rule.ExposeHeaders?.length) result.ExposeHeaders = rule.ExposeHeaders;
  if (rule.MaxAgeSeconds !== undefined) result.MaxAgeSeconds = rule.MaxAgeSeconds;
  return result;
}
