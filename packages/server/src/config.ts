import { z } from 'zod';

const booleanFlag = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'], { error: 'must be true or false' })
  .transform((value) => value === 'true' || value === '1' || value === 'yes');

const httpUrl = z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' });

const redisUrl = z.url({ protocol: /^rediss?$/, error: 'must be a redis:// or rediss:// URL' });

/** Whole milliseconds, seconds, minutes or hours; `min` 0 lets a setting switch a feature off. */
const count = (min: number, max = Number.MAX_SAFE_INTEGER) =>
  z.coerce.number({ error: 'must be a whole number' }).int({ error: 'must be a whole number' }).min(min).max(max);

/** Empty strings in a .env file mean "not set". */
const optional = <T extends z.ZodType>(schema: T) =>
  z.preprocess((value) => (value === '' ? undefined : value), schema.optional());

const envSchema = z.object({
  NODE_ENV: optional(z.enum(['development', 'production', 'test'])),
  HOST: optional(z.string().min(1)).default('127.0.0.1'),
  PORT: optional(z.coerce.number().int().min(0).max(65_535)).default(3000),
  PUBLIC_URL: optional(httpUrl),
  LOG_LEVEL: optional(z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])).default('info'),
  STORAGE: optional(z.enum(['local', 's3'], { error: 'must be local or s3' })),
  STORAGE_DIR: optional(z.string().min(1)).default('./data'),
  LOCAL_SIGNING_SECRET: optional(z.string().min(32, { error: 'must be at least 32 characters' })),
  AWS_BUCKET: optional(z.string().regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, { error: 'must be an S3 bucket name' })),
  AWS_DEFAULT_REGION: optional(z.string().min(1)).default('us-east-1'),
  AWS_ACCESS_KEY_ID: optional(z.string().min(1)),
  AWS_SECRET_ACCESS_KEY: optional(z.string().min(1)),
  AWS_SESSION_TOKEN: optional(z.string().min(1)),
  AWS_ENDPOINT_URL: optional(httpUrl),
  S3_FORCE_PATH_STYLE: optional(booleanFlag),
  AUTH_JWT_SECRET: optional(z.string().min(32, { error: 'must be at least 32 characters' })),
  AUTH_JWKS_URL: optional(httpUrl),
  AUTH_ISSUER: optional(z.string().min(1)),
  AUTH_AUDIENCE: optional(z.string().min(1)),
  AUTH_WORKSPACES_CLAIM: optional(z.string().min(1)).default('workspaces'),
  AUTH_ROLE_CLAIM: optional(z.string().min(1)).default('role'),
  AUTH_ADMIN_ROLE: optional(z.string().min(1)).default('admin'),
  AUTH_DISABLED: optional(booleanFlag).default(false),
  ALLOWED_FILE_TYPES: optional(z.string().min(1)),
  MAX_UPLOAD_BYTES: optional(z.coerce.number().int().min(1)),
  API_CORS_ORIGINS: optional(z.string().min(1)),
  TRUST_PROXY: optional(z.string().min(1)),
  HTTP_HEADERS_TIMEOUT_MS: optional(count(1)).default(60_000),
  HTTP_REQUEST_TIMEOUT_MS: optional(count(0)).default(3_600_000),
  HTTP_KEEP_ALIVE_TIMEOUT_MS: optional(count(1)).default(65_000),
  SHUTDOWN_GRACE_MS: optional(count(0)).default(25_000),
  DOWNLOAD_IDLE_TIMEOUT_MS: optional(count(1)).default(60_000),
  READINESS_TIMEOUT_MS: optional(count(1)).default(2_000),
  S3_CONNECT_TIMEOUT_MS: optional(count(1)),
  S3_RESPONSE_TIMEOUT_MS: optional(count(1)),
  S3_IDLE_TIMEOUT_MS: optional(count(1)),
  RATE_LIMIT_WINDOW_SECONDS: optional(count(1, 86_400)).default(60),
  RATE_LIMIT_PER_IP: optional(count(0)).default(1_000),
  RATE_LIMIT_PER_WORKSPACE: optional(count(0)).default(2_000),
  REDIS_URL: optional(redisUrl),
  UPLOAD_TTL_HOURS: optional(count(1)).default(24),
  UPLOAD_CLEANUP_INTERVAL_MINUTES: optional(count(0)).default(0),
});

export type Env = z.input<typeof envSchema>;

export interface LocalStoreConfig {
  kind: 'local';
  dir: string;
  signingSecret?: string;
}

export interface S3StoreConfig {
  kind: 's3';
  bucket: string;
  region: string;
  endpoint?: string;
  forcePathStyle: boolean;
  /** Absent: the SDK's default provider chain (env, profile, instance or task role). */
  credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
  /** Per-request limits in ms; absent fields keep the driver's defaults. */
  timeouts?: { connect?: number; response?: number; idle?: number };
}

/** How callers prove who they are; `open` lets everyone in (local development only). */
export type AuthConfig =
  | { mode: 'open' }
  | {
      mode: 'jwt';
      secret?: string;
      jwksUrl?: string;
      issuer?: string;
      audience?: string;
      workspacesClaim: string;
      roleClaim: string;
      adminRole: string;
    };

export interface Config {
  env: 'development' | 'production' | 'test';
  host: string;
  port: number;
  /** Base of URLs this server signs for itself (local store); set it behind a proxy. */
  publicUrl?: string;
  logLevel: string;
  storage: LocalStoreConfig | S3StoreConfig;
  auth: AuthConfig;
  uploads: UploadRules;
  /** Origins allowed to call /trpc and /s3 from a browser; `*` allows any, without credentials. */
  apiCorsOrigins: string[] | '*';
  http: HttpLimits;
  /** A download whose bytes stop moving this long (stalled store or stalled reader) is cut. */
  downloadIdleTimeoutMs: number;
  /** How long /readyz and the start-up check wait for the store. */
  readinessTimeoutMs: number;
  rateLimits: RateLimitConfig;
  uploadCleanup: UploadCleanupConfig;
}

export interface HttpLimits {
  headersTimeoutMs: number;
  /** 0: no limit on receiving a whole request. */
  requestTimeoutMs: number;
  keepAliveTimeoutMs: number;
  /** After SIGTERM, how long in-flight requests may finish before their sockets are cut. */
  shutdownGraceMs: number;
  /** Express's `trust proxy`: hop count or addresses/subnets of the proxies; absent trusts none. */
  trustProxy?: number | string[];
}

export interface RateLimitConfig {
  windowMs: number;
  /** Requests per window from one client address (IPv6: one /56); 0 switches the limit off. */
  perIp: number;
  /** Procedure calls per window naming one workspace; 0 switches the limit off. */
  perWorkspace: number;
  /** Shared counters for several instances; absent counts in this process only. */
  redisUrl?: string;
}

export interface UploadCleanupConfig {
  /** Unfinished multipart uploads older than this are aborted by the cleanup. */
  ttlHours: number;
  /** 0: no background job, only the `cleanup-uploads` command. */
  intervalMinutes: number;
}

export interface UploadRules {
  /** MIME patterns (`image/png`, `video/*`) a caller may store. */
  allowedFileTypes: string[];
  /** Largest object a caller may assemble, in bytes. */
  maxUploadBytes?: number;
}

/**
 * Types a browser cannot run as a page of ours: no HTML, SVG, XML or scripts, which a caller must
 * opt into explicitly through ALLOWED_FILE_TYPES.
 */
export const DEFAULT_ALLOWED_FILE_TYPES = [
  'image/png', 'image/jpeg', 'image/gif', 'image/webp', 'image/avif', 'image/heic', 'image/heif', 'image/bmp', 'image/tiff',
  'video/*', 'audio/*',
  'application/pdf',
  'application/msword', 'application/vnd.ms-excel', 'application/vnd.ms-powerpoint',
  'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
  'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
  'application/vnd.openxmlformats-officedocument.presentationml.presentation',
  'application/vnd.oasis.opendocument.text', 'application/vnd.oasis.opendocument.spreadsheet',
  'application/vnd.oasis.opendocument.presentation', 'text/plain', 'text/csv',
  'application/zip', 'application/gzip', 'application/x-tar', 'application/x-7z-compressed', 'application/x-rar-compressed',
  'application/octet-stream',
];

export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

/** Reads the environment once, at start. Messages name the variable at fault. */
export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((issue) => `  ${issue.path.join('.')}: ${issue.message}`);
    throw new ConfigError(`invalid configuration:\n${lines.join('\n')}`);
  }
  const vars = parsed.data;
  const storageKind = vars.STORAGE ?? (vars.AWS_BUCKET ? 's3' : 'local');
  return {
    env: vars.NODE_ENV ?? 'development',
    host: vars.HOST,
    port: vars.PORT,
    publicUrl: vars.PUBLIC_URL?.replace(/\/+$/, ''),
    logLevel: vars.LOG_LEVEL,
    storage: storageKind === 's3' ? s3Config(vars) : { kind: 'local', dir: vars.STORAGE_DIR, signingSecret: vars.LOCAL_SIGNING_SECRET },
    auth: authConfig(vars),
    uploads: {
      allowedFileTypes: vars.ALLOWED_FILE_TYPES ? commaList(vars.ALLOWED_FILE_TYPES) : DEFAULT_ALLOWED_FILE_TYPES,
      maxUploadBytes: vars.MAX_UPLOAD_BYTES,
    },
    apiCorsOrigins: !vars.API_CORS_ORIGINS || vars.API_CORS_ORIGINS.trim() === '*' ? '*' : commaList(vars.API_CORS_ORIGINS),
    http: {
      headersTimeoutMs: vars.HTTP_HEADERS_TIMEOUT_MS,
      requestTimeoutMs: vars.HTTP_REQUEST_TIMEOUT_MS,
      keepAliveTimeoutMs: vars.HTTP_KEEP_ALIVE_TIMEOUT_MS,
      shutdownGraceMs: vars.SHUTDOWN_GRACE_MS,
      trustProxy: trustProxy(vars.TRUST_PROXY),
    },
    downloadIdleTimeoutMs: vars.DOWNLOAD_IDLE_TIMEOUT_MS,
    readinessTimeoutMs: vars.READINESS_TIMEOUT_MS,
    rateLimits: {
      windowMs: vars.RATE_LIMIT_WINDOW_SECONDS * 1000,
      perIp: vars.RATE_LIMIT_PER_IP,
      perWorkspace: vars.RATE_LIMIT_PER_WORKSPACE,
      redisUrl: vars.REDIS_URL,
    },
    uploadCleanup: { ttlHours: vars.UPLOAD_TTL_HOURS, intervalMinutes: vars.UPLOAD_CLEANUP_INTERVAL_MINUTES },
  };
}

/**
 * `true` would trust any X-Forwarded-For a client writes, so anyone could pick the address the
 * per-IP limit counts; only a hop count or the proxies' own addresses are accepted.
 */
function trustProxy(value: string | undefined): number | string[] | undefined {
  if (value === undefined || value.trim() === 'false' || value.trim() === '0') return undefined;
  if (/^\d+$/.test(value.trim())) return Number(value.trim());
  if (value.trim() === 'true') {
    throw new ConfigError('invalid configuration:\n  TRUST_PROXY: give the number of proxy hops or their addresses, not true');
  }
  return commaList(value);
}

function commaList(value: string): string[] {
  return value.split(',').map((item) => item.trim()).filter(Boolean);
}

function authConfig(vars: z.output<typeof envSchema>): AuthConfig {
  if (vars.AUTH_JWT_SECRET && vars.AUTH_JWKS_URL) {
    throw new ConfigError('invalid configuration:\n  AUTH_JWT_SECRET, AUTH_JWKS_URL: set one of them, not both');
  }
  if (!vars.AUTH_JWT_SECRET && !vars.AUTH_JWKS_URL) {
    if (vars.NODE_ENV === 'production' && !vars.AUTH_DISABLED) {
      throw new ConfigError(
        'invalid configuration:\n  AUTH_JWT_SECRET or AUTH_JWKS_URL: required when NODE_ENV=production (set AUTH_DISABLED=true to run without authorization)',
      );
    }
    return { mode: 'open' };
  }
  return {
    mode: 'jwt',
    secret: vars.AUTH_JWT_SECRET,
    jwksUrl: vars.AUTH_JWKS_URL,
    issuer: vars.AUTH_ISSUER,
    audience: vars.AUTH_AUDIENCE,
    workspacesClaim: vars.AUTH_WORKSPACES_CLAIM,
    roleClaim: vars.AUTH_ROLE_CLAIM,
    adminRole: vars.AUTH_ADMIN_ROLE,
  };
}

function s3Config(vars: z.output<typeof envSchema>): S3StoreConfig {
  if (!vars.AWS_BUCKET) throw new ConfigError('invalid configuration:\n  AWS_BUCKET: required when STORAGE=s3');
  if (Boolean(vars.AWS_ACCESS_KEY_ID) !== Boolean(vars.AWS_SECRET_ACCESS_KEY)) {
    throw new ConfigError('invalid configuration:\n  AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY: set both or neither');
  }
  return {
    kind: 's3',
    bucket: vars.AWS_BUCKET,
    region: vars.AWS_DEFAULT_REGION,
    endpoint: vars.AWS_ENDPOINT_URL,
    forcePathStyle: vars.S3_FORCE_PATH_STYLE ?? Boolean(vars.AWS_ENDPOINT_URL),
    credentials:
      vars.AWS_ACCESS_KEY_ID && vars.AWS_SECRET_ACCESS_KEY
        ? { accessKeyId: vars.AWS_ACCESS_KEY_ID, secretAccessKey: vars.AWS_SECRET_ACCESS_KEY, sessionToken: vars.AWS_SESSION_TOKEN }
        : undefined,
    timeouts: withoutUnset({ connect: vars.S3_CONNECT_TIMEOUT_MS, response: vars.S3_RESPONSE_TIMEOUT_MS, idle: vars.S3_IDLE_TIMEOUT_MS }),
  };
}

/** Unset fields are left out, so spreading the result over defaults keeps those defaults. */
function withoutUnset<T extends Record<string, unknown>>(fields: T): Partial<T> {
  return Object.fromEntries(Object.entries(fields).filter(([, value]) => value !== undefined)) as Partial<T>;
}
