import { pino } from 'pino';

export type Logger = pino.Logger;

export function createLogger(options: { level: string; pretty?: boolean }): Logger {
  return pino({ level: options.level, base: { service: 's3-service' } });
}

/** For tests and embedders that want quiet. */
export const silentLogger: Logger = pino({ level: 'silent' });
