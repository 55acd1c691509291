import { GetBucketLifecycleConfigurationCommand, type LifecycleRule, PutBucketLifecycleConfigurationCommand } from '@aws-sdk/client-s3';
import type { S3Context } from './context.js';
import { toStoreError } from './errors.js';

/** Our rule's ID: the one rule of the bucket's lifecycle configuration this service owns. */
export const ABORT_INCOMPLETE_UPLOADS_RULE_ID = 's3-service-abort-incomplete-uploads';

/**
 * Sets S3's own cleanup of abandoned uploads: a lifecycle rule that aborts multipart uploads
 * `days` after they started. S3 replaces the whole lifecycle configuration on every PUT, so the
 * rules already there (an operator's expirations, transitions) are read first and kept; only the
 * rule with our ID is replaced.
 */
export async function putAbortIncompleteUploadsRule(s3: S3Context, days: number): Promise<void> {
  const others = (await currentRules(s3)).filter((rule) => rule.ID !== ABORT_INCOMPLETE_UPLOADS_RULE_ID);
  const ours: LifecycleRule = {
    ID: ABORT_INCOMPLETE_UPLOADS_RULE_ID,
    Status: 'Enabled',
    Filter: { Prefix: '' },
    AbortIncompleteMultipartUpload: { DaysAfterInitiation: days },
  };
  try {
    await s3.client.send(
      new PutBucketLifecycleConfigurationCommand({ Bucket: s3.bucket, LifecycleConfiguration: { Rules: [...others, ours] } }),
    );
  } catch (error) {
    throw toStoreError(error, 'PutBucketLifecycleConfiguration');
  }
}

async function currentRules(s3: S3Context): Promise<LifecycleRule[]> {
  try {
    const output = await s3.client.send(new GetBucketLifecycleConfigurationCommand({ Bucket: s3.bucket }));
    return output.Rules ?? [];
  } catch (error) {
    // A bucket that never had lifecycle rules answers with an error, not an empty list.
    if (error instanceof Error && error.name === 'NoSuchLifecycleConfiguration') return [];
    throw toStoreError(error, 'GetBucketLifecycleConfiguration');
  }
}
