import { resolve } from 'node:path';
import { type Catalog, CatalogInUseError, type Config, ConfigError, type Logger, openCatalog, showSetting } from '@s3-service/server';

/**
 * Opens (and so migrates) the configured catalogue for a one-shot command. A database that cannot
 * be reached or opened is a ConfigError naming the setting to check; a PGlite folder another
 * process holds is the CatalogInUseError, whose message says what to do.
 */
export async function openCommandCatalog(config: Config, logger: Logger): Promise<Catalog> {
  try {
    return await openCatalog(config.catalog, { logger });
  } catch (error) {
    if (error instanceof CatalogInUseError) throw error;
    const reason = describeError(error);
    if (config.catalog.kind === 'postgres') {
      throw new ConfigError(`${showSetting('DATABASE_URL', config.catalog.url)}: PostgreSQL cannot be reached or migrated (${reason})`);
    }
    throw new ConfigError(
      `${showSetting('STORAGE_DIR', config.catalog.dataDir)}: the embedded catalogue (PGlite) cannot be opened (${reason})`,
    );
  }
}

/** Where the catalogue is, for a person: the server and database, never the password. */
export function describeCatalog(config: Config): string {
  if (config.catalog.kind === 'postgres') {
    const url = new URL(config.catalog.url);
    return `PostgreSQL at ${url.host}${url.pathname}`;
  }
  return `PGlite at ${resolve(config.catalog.dataDir ?? '')}`;
}

/** The error's code and message on one line; node-postgres reports a refused connection to every address of a name as an AggregateError. */
function describeError(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const inner = error instanceof AggregateError && error.errors[0] instanceof Error ? error.errors[0] : error;
  const code = (inner as { code?: unknown }).code;
  const message = (inner.message || error.message || inner.name).replace(/\s*\n\s*/g, ' ');
  return typeof code === 'string' && !message.includes(code) ? `${code}: ${message}` : message;
}

/** The one line a failed command leaves on stderr, then exit code 1. */
export function failCommand(command: string, error: unknown): never {
  const message = error instanceof Error ? error.message : String(error);
  console.error(`${command} failed: ${message.replace(/\s*\n\s*/g, ' ')}`);
  process.exit(1);
}
