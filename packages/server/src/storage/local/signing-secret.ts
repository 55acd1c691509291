import { randomBytes } from 'node:crypto';
import { link, readFile, rm, writeFile } from 'node:fs/promises';
import { AppError } from '../../errors.js';
import { diskFailure, isMissing, storageFailed } from './fs-errors.js';
import type { Layout } from './layout.js';

const SECRET_HEX = /^[0-9a-f]{64}$/;

/**
 * The HMAC key for signed URLs. A configured secret wins; otherwise one is generated on first
 * start and kept in `<dir>/.signing-secret` (mode 0600) so URLs handed out survive a restart.
 */
export async function loadSigningSecret(layout: Layout, configured?: string): Promise<Buffer> {
  if (configured !== undefined) {
    if (configured.length < 32) throw new AppError('INVALID_PARAMETER', 'signingSecret: must be at least 32 characters');
    return Buffer.from(configured, 'utf8');
  }
  try {
    return (await readSecretFile(layout.secretFile)) ?? (await createSecretFile(layout));
  } catch (error) {
    throw storageFailed('reading the signing secret', error);
  }
}

async function readSecretFile(path: string): Promise<Buffer | undefined> {
  let text: string;
  try {
    text = (await readFile(path, 'utf8')).trim();
  } catch (error) {
    if (isMissing(error)) return undefined;
    throw error;
  }
  if (!SECRET_HEX.test(text)) {
    throw diskFailure('.signing-secret is not 64 hex digits; fix or delete it');
  }
  return Buffer.from(text, 'hex');
}

/**
 * Written complete under a temp name and then hard-linked into place: `link` fails when the file
 * already exists, so when two stores start at once on one folder both end up with the same secret.
 */
async function createSecretFile(layout: Layout): Promise<Buffer> {
  const secret = randomBytes(32);
  const temp = layout.tempFile();
  try {
    await writeFile(temp, `${secret.toString('hex')}\n`, { flag: 'wx', mode: 0o600 });
    await link(temp, layout.secretFile);
    return secret;
  } catch (error) {
    const existing = await readSecretFile(layout.secretFile).catch(() => undefined);
    if (existing) return existing;
    throw error;
  } finally {
    await rm(temp, { force: true });
  }
}
