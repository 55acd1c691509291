import { pino } from 'pino';
import pinoPretty from 'pino-pretty';

export type Logger = pino.Logger;

export interface CreateLoggerOptions {
  level: string;
  /** Human-readable lines instead of JSON: for a person watching a terminal, never for machines. */
  pretty?: boolean;
  /** Where JSON lines go; stdout by default. Tests pass a stream to read them back. */
  destination?: pino.DestinationStream;
}

/**
 * Secrets that may ride along on logged objects. The request serializer already leaves headers
 * out; these paths keep a token out even when someone logs a raw header object later.
 */
export const REDACTED_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'headers.authorization',
  'headers.cookie',
  'res.headers["set-cookie"]',
];

export function createLogger(options: CreateLoggerOptions): Logger {
  const settings: pino.LoggerOptions = {
    level: options.level,
    base: { service: 's3-service' },
    timestamp: pino.stdTimeFunctions.isoTime,
    redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
  };
  if (options.pretty) {
    // In-process prettifying (no worker thread): development only, where throughput does not matter.
    return pino(settings, pinoPretty({ colorize: true, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname,service' }));
  }
  return options.destination ? pino(settings, options.destination) : pino(settings);
}

/** Pretty lines only in development on a terminal: piped output and tests stay JSON. */
export function wantsPrettyLogs(env: string, stdoutIsTerminal: boolean): boolean {
  return env === 'development' && stdoutIsTerminal;
}

/** For tests and embedders that want quiet. */
export const silentLogger: Logger = pino({ level: 'silent' });
