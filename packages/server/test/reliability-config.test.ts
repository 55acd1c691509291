import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../src/config.js';

describe('reliability settings', () => {
  it('have production-safe defaults', () => {
    const config = loadConfig({});
    expect(config.http).toEqual({
      headersTimeoutMs: 60_000,
      requestTimeoutMs: 3_600_000,
      keepAliveTimeoutMs: 65_000,
      shutdownGraceMs: 25_000,
      trustProxy: undefined,
    });
    expect(config.downloadIdleTimeoutMs).toBe(60_000);
    expect(config.readinessTimeoutMs).toBe(2_000);
    expect(config.rateLimits).toEqual({ windowMs: 60_000, perIp: 1_000, perWorkspace: 2_000, redisUrl: undefined });
    expect(config.uploadCleanup).toEqual({ ttlHours: 24, intervalMinutes: 0 });
  });

  it('read every variable, and leave unset S3 timeouts to the driver defaults', () => {
    const config = loadConfig({
      AWS_BUCKET: 'my-bucket',
      S3_RESPONSE_TIMEOUT_MS: '1500',
      S3_CONNECT_TIMEOUT_MS: '',
      SHUTDOWN_GRACE_MS: '0',
      RATE_LIMIT_WINDOW_SECONDS: '10',
      RATE_LIMIT_PER_WORKSPACE: '0',
      REDIS_URL: 'redis://cache.internal:6379',
      TRUST_PROXY: '10.0.0.0/8, loopback',
      UPLOAD_TTL_HOURS: '72',
      UPLOAD_CLEANUP_INTERVAL_MINUTES: '15',
    });
    expect(config.storage).toMatchObject({ kind: 's3', timeouts: { response: 1_500 } });
    expect(Object.keys((config.storage as { timeouts: object }).timeouts)).toEqual(['response']);
    expect(config.http.shutdownGraceMs).toBe(0);
    expect(config.http.trustProxy).toEqual(['10.0.0.0/8', 'loopback']);
    expect(config.rateLimits).toEqual({ windowMs: 10_000, perIp: 1_000, perWorkspace: 0, redisUrl: 'redis://cache.internal:6379' });
    expect(config.uploadCleanup).toEqual({ ttlHours: 72, intervalMinutes: 15 });
    expect(loadConfig({ TRUST_PROXY: '2' }).http.trustProxy).toBe(2);
  });

  it('refuse values that would be unsafe or meaningless, naming the variable', () => {
    expect(() => loadConfig({ TRUST_PROXY: 'true' })).toThrow(/TRUST_PROXY/);
    expect(() => loadConfig({ RATE_LIMIT_PER_IP: '-1' })).toThrow(/RATE_LIMIT_PER_IP/);
    expect(() => loadConfig({ REDIS_URL: 'http://cache:6379' })).toThrow(/REDIS_URL/);
    expect(() => loadConfig({ UPLOAD_TTL_HOURS: '0' })).toThrow(/UPLOAD_TTL_HOURS/);
    expect(() => loadConfig({ HTTP_HEADERS_TIMEOUT_MS: 'soon' })).toThrow(ConfigError);
  });
});
