import { randomBytes } from 'node:crypto';

/** Standard Webhooks' prefix of a signing secret; its libraries strip it before decoding the key. */
const SECRET_PREFIX = 'whsec_';

/** 256 bits, the key size of HMAC-SHA256 that signs every delivery. */
const SECRET_BYTES = 32;

/**
 * A new endpoint signing secret in the Standard Webhooks format (`whsec_` and base64 of the key),
 * the form `new Webhook(secret)` of the `standardwebhooks` libraries takes as it is, so receivers
 * paste it into off-the-shelf verification code.
 */
export function newWebhookSecret(): string {
  return `${SECRET_PREFIX}${randomBytes(SECRET_BYTES).toString('base64')}`;
}
