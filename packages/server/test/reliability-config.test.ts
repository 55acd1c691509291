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
    expect(config.rateLimits).toEqual({
      windowMs: 60_000,
      perIp: 1_000,
      perWorkspace: 2_000,
      signedUrlsPerWorkspace: 50_000,
      redisUrl: undefined,
    });
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
    expect(config.rateLimits).toEqual({
      windowMs: 10_000,
      perIp: 1_000,
      perWorkspace: 0,
      signedUrlsPerWorkspace: 50_000,
      redisUrl: 'redis://cache.internal:6379',
    });
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

  it('explain each refusal on one line: the variable, its value, and what is allowed', () => {
    const message = (env: Record<string, string>) => {
      try {
        loadConfig(env);
      } catch (error) {
        expect(error).toBeInstanceOf(ConfigError);
        return (error as Error).message;
      }
      throw new Error('accepted');
    };
    expect(message({ RATE_LIMIT_PER_IP: '-5' })).toBe(
      'RATE_LIMIT_PER_IP=-5: must be 0 (off) or a positive whole number of requests per window',
    );
    expect(message({ SHUTDOWN_GRACE_MS: '1.5' })).toBe(
      'SHUTDOWN_GRACE_MS=1.5: must be 0 (no grace, cut at once) or a positive whole number of milliseconds',
    );
    expect(message({ HTTP_HEADERS_TIMEOUT_MS: '0' })).toBe('HTTP_HEADERS_TIMEOUT_MS=0: must be a positive whole number of milliseconds');
    expect(message({ RATE_LIMIT_WINDOW_SECONDS: '86401' })).toBe(
      'RATE_LIMIT_WINDOW_SECONDS=86401: must be a whole number of seconds from 1 to 86400',
    );
    expect(message({ MAX_UPLOAD_BYTES: '1e9' })).toBe('MAX_UPLOAD_BYTES=1e9: must be a positive whole number of bytes');
    expect(message({ PORT: '0x50' })).toBe('PORT=0x50: must be a whole number from 0 to 65535 (0: any free port)');
    expect(message({ ALLOWED_FILE_TYPES: 'image/png, notamime, */*' })).toBe(
      'ALLOWED_FILE_TYPES="image/png, notamime, */*": "notamime", "*/*" are not MIME types: each entry must be type/subtype or type/* such as image/png or video/*',
    );
    expect(message({ TRUST_PROXY: 'loopback, proxy.internal' })).toMatch(
      /^TRUST_PROXY="loopback, proxy.internal": "proxy.internal" is not an address/,
    );
    // Secrets never reach the terminal, nor a password inside a URL.
    expect(message({ AUTH_JWT_SECRET: 'short-secret' })).toBe('AUTH_JWT_SECRET=(hidden, 12 characters): must be at least 32 characters');
    expect(message({ REDIS_URL: 'http://:s3cret@cache:6379' })).toBe(
      'REDIS_URL=http://:***@cache:6379: must be a redis:// or rediss:// URL',
    );
    expect(message({ PORT: '-1', UPLOAD_TTL_HOURS: '0' })).toBe(
      'PORT=-1: must be a whole number from 0 to 65535 (0: any free port); UPLOAD_TTL_HOURS=0: must be a positive whole number of hours',
    );
    const crossChecks: Array<Record<string, string>> = [
      { TRUST_PROXY: 'true' },
      { NODE_ENV: 'production' },
      { STORAGE: 's3' },
      { AWS_BUCKET: 'bucket', AWS_ACCESS_KEY_ID: 'AKIA' },
    ];
    for (const env of crossChecks) {
      expect(message(env)).not.toContain('\n');
    }
  });

  it('accept MIME patterns and proxy addresses in their real shapes', () => {
    const config = loadConfig({
      ALLOWED_FILE_TYPES: 'image/png, video/*, application/vnd.ms-excel, application/x-7z-compressed, image/svg+xml',
      TRUST_PROXY: 'loopback, 10.0.0.0/8, 192.168.0.0/255.255.0.0, ::1, fd00::/8',
    });
    expect(config.uploads.allowedFileTypes).toHaveLength(5);
    expect(config.http.trustProxy).toEqual(['loopback', '10.0.0.0/8', '192.168.0.0/255.255.0.0', '::1', 'fd00::/8']);
  });
});
