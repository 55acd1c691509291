import { AppError } from '../errors.js';

/** Node socket failures and the SQLSTATE classes that mean "the database is not there" (08, 57P). */
const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH']);

export function isConnectionFailure(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const { code, message } = error as { code?: unknown; message?: unknown };
  if (typeof code === 'string' && (NETWORK_CODES.has(code) || code.startsWith('08') || code.startsWith('57P'))) return true;
  // node-postgres reports a dropped or timed-out connection by message only.
  return (
    typeof message === 'string' &&
    /Connection terminated|connection timeout|timeout exceeded when trying to connect|Client has encountered a connection error|PGlite is closed/i.test(
      message,
    )
  );
}

/**
 * Runs a catalogue call, turning "cannot reach the database" into CATALOG_UNAVAILABLE (503): the
 * caller may retry, and /readyz says the same. Drizzle wraps driver errors, so the cause is read too.
 */
export async function translateUnavailable<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    if (error instanceof AppError) throw error;
    if (isConnectionFailure(error) || isConnectionFailure((error as { cause?: unknown })?.cause)) {
      throw new AppError('CATALOG_UNAVAILABLE', 'the asset catalogue (database) cannot be reached; try again shortly', { cause: error });
    }
    throw error;
  }
}
