import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { resolve } from 'node:path';
import { z } from 'zod';
import { DEFAULT_MAX_TOKEN_LIFETIME_SECONDS } from './auth/token-lifetime.js';
import type { QuotaRules } from './catalog/catalog.js';
import { type CatalogConfig, embeddedCatalogDir } from './catalog/config.js';
import { isTargetRuleEntry, TARGET_RANGE_NAMES } from './events/webhook-target.js';

const booleanFlag = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'], { error: 'must be true or false' })
  .transform((value) => value === 'true' || value === '1' || value === 'yes');

const httpUrl = z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' });

const databaseUrl = z.url({ protocol: /^postgres(ql)?$/, error: 'must be a postgres:// or postgresql:// URL' });

const redisUrl = z.url({ protocol: /^rediss?$/, error: 'must be a redis:// or rediss:// URL' });

/**
 * A whole number from `min` to `max`, digits only (no `1e3`, no `0x10`). One message states the
 * whole rule, whichever part a value broke: "-5" is a whole number, so "must be a whole number"
 * would send the reader looking for the wrong mistake.
 */
const wholeNumber = (min: number, max: number, error: string) =>
  z.string({ error }).regex(/^\d+$/, { error }).transform(Number).pipe(z.number().min(min, { error }).max(max, { error }));

/** Milliseconds, seconds, hours, bytes...; where 0 is allowed, `zero` says what it means. */
const count = (min: 0 | 1, unit: string, options: { zero?: string; max?: number } = {}) => {
  const zero = options.zero ?? 'off';
  if (options.max !== undefined) {
    const meaning = min === 0 ? ` (0: ${zero})` : '';
    return wholeNumber(min, options.max, `must be a whole number of ${unit} from ${min} to ${options.max}${meaning}`);
  }
  const error = min === 0 ? `must be 0 (${zero}) or a positive whole number of ${unit}` : `must be a positive whole number of ${unit}`;
  return wholeNumber(min, Number.MAX_SAFE_INTEGER, error);
};

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

/**
 * RFC 6838 type and subtype names (restricted-name: a letter or digit, then up to 126 of these),
 * and `type/*` for a family. Anything else would match no upload and fail silently.
 */
const MIME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}\/(?:\*|[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126})$/;

const mimeList = z.string().superRefine((value, context) => {
  const entries = commaList(value);
  const bad = entries.filter((entry) => !MIME_PATTERN.test(entry));
  if (entries.length === 0) {
    context.addIssue({ code: 'custom', message: 'names no type, so nothing could be uploaded; leave it empty for the default list' });
  } else if (bad.length > 0) {
    context.addIssue({
      code: 'custom',
      message: `${bad.map((entry) => JSON.stringify(entry)).join(', ')} ${bad.length > 1 ? 'are not MIME types' : 'is not a MIME type'}: each entry must be type/subtype or type/* such as image/png or video/*`,
    });
  }
});

/** Express's `trust proxy` throws at start, with a stack, on anything proxy-addr cannot read. */
const PROXY_NAMES = new Set(['loopback', 'linklocal', 'uniquelocal']);

function isProxyAddress(entry: string): boolean {
  if (PROXY_NAMES.has(entry)) return true;
  const [address = '', range, ...rest] = entry.split('/');
  const family = isIP(address);
  if (family === 0 || rest.length > 0) return false;
  if (range === undefined) return true;
  if (/^\d{1,3}$/.test(range)) return Number(range) <= (family === 4 ? 32 : 128);
  // proxy-addr reads a netmask for IPv4 only, and only one whose ones come first (255.255.0.0).
  const bits = range
    .split('.')
    .map((octet) => Number(octet).toString(2).padStart(8, '0'))
    .join('');
  return family === 4 && isIP(range) === 4 && /^1*0*$/.test(bits);
}

/** Empty strings in a .env file mean "not set". */
const optional = <T extends z.ZodType>(schema: T) => z.preprocess((value) => (value === '' ? undefined : value), schema.optional());

/** The HTTP server's limits when nothing is configured: here once, for the env and for `listen`. */
export const DEFAULT_HTTP_LIMITS = {
  headersTimeoutMs: 60_000,
  requestTimeoutMs: 3_600_000,
  keepAliveTimeoutMs: 65_000,
  shutdownGraceMs: 25_000,
};

/**
 * One request's most: a batch of 50 calls, and 10,000 part URLs (one whole upload, a 2.5 MB
 * answer and about 0.15 s of signing) summed over them.
 */
export const DEFAULT_REQUEST_LIMITS = { maxCallsPerBatch: 50, maxPartsPerRequest: 10_000 };

/** Webhook delivery when nothing is configured: here once, for the env and for embedders. */
export const DEFAULT_WEBHOOK_SETTINGS = {
  timeoutMs: 10_000,
  retryWindowMs: 24 * 3_600_000,
  backoffBaseMs: 5_000,
  backoffMaxMs: 3_600_000,
  concurrency: 32,
};

export const DEFAULT_EVENT_SETTINGS = { pollIntervalMs: 500, retentionDays: 30 };

/** Uppy's endpoint: capabilities live at most a day; a form upload takes up to Uppy's own 100 MiB multipart threshold. */
export const DEFAULT_UPPY_SETTINGS = { maxCapabilitySeconds: 86_400, formMaxBytes: 100 * 1024 * 1024 };

const envSchema = z.object({
  NODE_ENV: optional(z.enum(['development', 'production', 'test'], { error: 'must be development, production or test' })),
  HOST: optional(z.string().min(1)).default('127.0.0.1'),
  PORT: optional(wholeNumber(0, 65_535, 'must be a whole number from 0 to 65535 (0: any free port)')).default(3000),
  PUBLIC_URL: optional(httpUrl),
  LOG_LEVEL: optional(z.enum(LOG_LEVELS, { error: `must be one of ${LOG_LEVELS.join(', ')}` })).default('info'),
  STORAGE: optional(z.enum(['local', 's3'], { error: 'must be local or s3' })),
  STORAGE_DIR: optional(z.string().min(1)).default('./data'),
  LOCAL_SIGNING_SECRET: optional(z.string().min(32, { error: 'must be at least 32 characters' })),
  LOCAL_ORPHAN_AGE_SECONDS: optional(count(1, 'seconds')),
  AWS_BUCKET: optional(
    z.string().regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, {
      error: 'must be an S3 bucket name: 3 to 63 lowercase letters, digits, dots and hyphens',
    }),
  ),
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
  AUTH_MAX_TOKEN_LIFETIME_SECONDS: optional(count(0, 'seconds', { zero: 'no longest lifetime; exp is still required' })).default(
    DEFAULT_MAX_TOKEN_LIFETIME_SECONDS,
  ),
  ALLOWED_FILE_TYPES: optional(mimeList),
  MAX_UPLOAD_BYTES: optional(count(1, 'bytes')),
  FILE_TYPE_CHECK: optional(booleanFlag).default(true),
  API_CORS_ORIGINS: optional(z.string().min(1)),
  TRUST_PROXY: optional(z.string().min(1)),
  HTTP_HEADERS_TIMEOUT_MS: optional(count(1, 'milliseconds')).default(DEFAULT_HTTP_LIMITS.headersTimeoutMs),
  HTTP_REQUEST_TIMEOUT_MS: optional(count(0, 'milliseconds', { zero: 'no limit' })).default(DEFAULT_HTTP_LIMITS.requestTimeoutMs),
  HTTP_KEEP_ALIVE_TIMEOUT_MS: optional(count(1, 'milliseconds')).default(DEFAULT_HTTP_LIMITS.keepAliveTimeoutMs),
  SHUTDOWN_GRACE_MS: optional(count(0, 'milliseconds', { zero: 'no grace, cut at once' })).default(DEFAULT_HTTP_LIMITS.shutdownGraceMs),
  DOWNLOAD_IDLE_TIMEOUT_MS: optional(count(1, 'milliseconds')).default(60_000),
  READINESS_TIMEOUT_MS: optional(count(1, 'milliseconds')).default(2_000),
  S3_CONNECT_TIMEOUT_MS: optional(count(1, 'milliseconds')),
  S3_RESPONSE_TIMEOUT_MS: optional(count(1, 'milliseconds')),
  S3_IDLE_TIMEOUT_MS: optional(count(1, 'milliseconds')),
  RATE_LIMIT_WINDOW_SECONDS: optional(count(1, 'seconds', { max: 86_400 })).default(60),
  RATE_LIMIT_PER_IP: optional(count(0, 'requests per window')).default(1_000),
  RATE_LIMIT_PER_WORKSPACE: optional(count(0, 'calls per window')).default(2_000),
  RATE_LIMIT_SIGNED_URLS_PER_WORKSPACE: optional(count(0, 'signed part URLs per window')).default(50_000),
  // Floors: the project's client batches up to 20 calls and signs 100 parts a call.
  MAX_CALLS_PER_BATCH: optional(wholeNumber(20, 10_000, 'must be a whole number of calls from 20 to 10000')).default(
    DEFAULT_REQUEST_LIMITS.maxCallsPerBatch,
  ),
  MAX_PARTS_PER_REQUEST: optional(wholeNumber(100, 1_000_000, 'must be a whole number of part numbers from 100 to 1000000')).default(
    DEFAULT_REQUEST_LIMITS.maxPartsPerRequest,
  ),
  REDIS_URL: optional(redisUrl),
  DATABASE_URL: optional(databaseUrl),
  WORKSPACE_QUOTA_BYTES: optional(count(0, 'bytes', { zero: 'no quota' })),
  UPLOAD_TTL_HOURS: optional(count(1, 'hours')).default(24),
  UPLOAD_CLEANUP_INTERVAL_MINUTES: optional(count(0, 'minutes')).default(0),
  WEBHOOK_DISPATCHER: optional(booleanFlag).default(true),
  WEBHOOK_TIMEOUT_MS: optional(wholeNumber(100, 120_000, 'must be a whole number of milliseconds from 100 to 120000')).default(
    DEFAULT_WEBHOOK_SETTINGS.timeoutMs,
  ),
  WEBHOOK_RETRY_WINDOW_SECONDS: optional(count(1, 'seconds', { max: 30 * 86_400 })).default(DEFAULT_WEBHOOK_SETTINGS.retryWindowMs / 1000),
  WEBHOOK_BACKOFF_BASE_MS: optional(count(1, 'milliseconds', { max: 3_600_000 })).default(DEFAULT_WEBHOOK_SETTINGS.backoffBaseMs),
  WEBHOOK_BACKOFF_MAX_MS: optional(count(1, 'milliseconds', { max: 86_400_000 })).default(DEFAULT_WEBHOOK_SETTINGS.backoffMaxMs),
  WEBHOOK_CONCURRENCY: optional(count(1, 'deliveries', { max: 1_000 })).default(DEFAULT_WEBHOOK_SETTINGS.concurrency),
  WEBHOOK_ALLOWED_PRIVATE_TARGETS: optional(
    z.string().refine((value) => commaList(value).every(isTargetRuleEntry), {
      error: `each entry must be an address, a subnet (10.0.0.0/8, ::1/128) or one of ${TARGET_RANGE_NAMES.join(', ')}`,
    }),
  ),
  EVENT_POLL_INTERVAL_MS: optional(wholeNumber(10, 60_000, 'must be a whole number of milliseconds from 10 to 60000')).default(
    DEFAULT_EVENT_SETTINGS.pollIntervalMs,
  ),
  EVENT_RETENTION_DAYS: optional(count(1, 'days', { max: 3_650 })).default(DEFAULT_EVENT_SETTINGS.retentionDays),
  UPPY_CAPABILITY_SECRET: optional(z.string().min(32, { error: 'must be at least 32 characters' })),
  UPPY_CAPABILITY_MAX_SECONDS: optional(count(1, 'seconds')).default(DEFAULT_UPPY_SETTINGS.maxCapabilitySeconds),
  UPPY_FORM_MAX_BYTES: optional(count(1, 'bytes')).default(DEFAULT_UPPY_SETTINGS.formMaxBytes),
});

export type Env = z.input<typeof envSchema>;

export interface LocalStoreConfig {
  kind: 'local';
  dir: string;
  signingSecret?: string;
  /** Crash leftovers unchanged this long are swept; absent: the store's default (2 h). */
  orphanAgeMs?: number;
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
      /** Tokens valid for longer (exp - iat, or exp - now) are refused; 0: no bound; absent: one day. */
      maxTokenLifetimeSeconds?: number;
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
  requestLimits: RequestLimits;
  uploadCleanup: UploadCleanupConfig;
  /** PostgreSQL (DATABASE_URL), or PGlite in STORAGE_DIR/catalog when it is unset. */
  catalog: CatalogConfig;
  quotas: QuotaRules;
  webhooks: WebhookConfig;
  events: EventConfig;
  uppy: UppyConfig;
}

/** Uppy's Companion S3 endpoint (uppy/). */
export interface UppyConfig {
  /** HS256 secret of upload capabilities; absent: one per process (capabilities end at restart, one instance only). */
  capabilitySecret?: string;
  maxCapabilitySeconds: number;
  /** Most bytes of one small-file form upload. */
  formMaxBytes: number;
}

/** How webhooks are delivered (events/webhook-dispatcher.ts). */
export interface WebhookSettings {
  /** One attempt's limit, connection to the last byte of the answer. */
  timeoutMs: number;
  /** A delivery not accepted this long after its event is marked failed. */
  retryWindowMs: number;
  /** The first retry waits about this long, each next one twice as long (with jitter), up to backoffMaxMs. */
  backoffBaseMs: number;
  backoffMaxMs: number;
  /** Deliveries in flight at once in one process. */
  concurrency: number;
  /** Subnets and range names (loopback, private, linklocal, uniquelocal) a webhook may target besides public addresses. */
  allowedPrivateTargets: string[];
}

export interface WebhookConfig extends WebhookSettings {
  /** Whether the API process delivers webhooks; false when a separate `dispatch-webhooks` process does. */
  dispatcher: boolean;
}

export interface EventConfig {
  /** How often readers of the outbox look for what other instances wrote, and for retries that fell due. */
  pollIntervalMs: number;
  /** Events and finished deliveries are kept this long, then pruned by the cleanup job. */
  retentionDays: number;
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
  /** Part URLs signed per window for one workspace (the work, not the calls); 0 switches it off. */
  signedUrlsPerWorkspace: number;
  /** Shared counters for several instances; absent counts in this process only. */
  redisUrl?: string;
}

/** What one request may ask for at most; more is refused (413 REQUEST_TOO_LARGE) before any work. */
export interface RequestLimits {
  /** Calls in one tRPC batch. */
  maxCallsPerBatch: number;
  /** Part numbers to sign in one request, summed over the calls of a batch. */
  maxPartsPerRequest: number;
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
  /**
   * Whether complete holds the declared type to the object's first bytes (FILE_TYPE_CHECK).
   * Absent: it does; false trusts the declared type as before.
   */
  checkFileType?: boolean;
}

/**
 * Types a browser cannot run as a page of ours: no HTML, SVG, XML or scripts, which a caller must
 * opt into explicitly through ALLOWED_FILE_TYPES.
 */
export const DEFAULT_ALLOWED_FILE_TYPES = [
  'image/png',
  'image/jpeg',
  'image/gif',
  'image/webp',
  'image/avif',
  'image/heic',
  'image/heif',
  'image/bmp',
  'image/tiff',
  'video/*',
  'audio/*',
  'application/pdf',
  'application/msword',
  'application/vnd.ms-excel',
  'application/vnd.ms-powerpoint',
  'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
  'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
  'application/vnd.openxmlformats-officedocument.presentationml.presentation',
  'application/vnd.oasis.opendocument.text',
  'application/vnd.oasis.opendocument.spreadsheet',
  'application/vnd.oasis.opendocument.presentation',
  'text/plain',
  'text/csv',
  'application/zip',
  'application/gzip',
  'application/x-tar',
  'application/x-7z-compressed',
  'application/x-rar-compressed',
  'application/octet-stream',
];

/**
 * A setting to fix. The message is one line that starts with the variable and its value
 * (`PORT=80: ...`), so a person reads what to change without a stack; several problems are
 * joined with "; ".
 */
export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

/** Values that must not reach a terminal or a log collector: only their length is shown. */
const SECRET_VARIABLES = new Set([
  'LOCAL_SIGNING_SECRET',
  'AWS_SECRET_ACCESS_KEY',
  'AWS_SESSION_TOKEN',
  'AUTH_JWT_SECRET',
  'UPPY_CAPABILITY_SECRET',
]);

/**
 * `NAME=value` for messages: unset is `(unset)`, secrets and URL passwords are hidden, and a value
 * with spaces or control characters is quoted, so the message stays one line.
 */
export function showSetting(name: string, value: string | undefined): string {
  if (value === undefined || value === '') return `${name}=(unset)`;
  if (SECRET_VARIABLES.has(name)) return `${name}=(hidden, ${value.length} characters)`;
  const shown = value.replace(/(\/\/[^/@:]*:)[^/@]*@/, '$1***@');
  return `${name}=${/^[\x21-\x7e]*$/.test(shown) ? shown : JSON.stringify(shown)}`;
}

/**
 * Reads the environment once, at start. Without an argument: the process environment, after the
 * .env file (see loadEnvFile). Tests pass an object and so never see a developer's .env.
 */
export function loadConfig(env?: Record<string, string | undefined>): Config {
  if (env === undefined) loadEnvFile();
  const source = env ?? process.env;
  const parsed = envSchema.safeParse(source);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => {
      const name = String(issue.path[0] ?? '');
      return `${showSetting(name, source[name])}: ${issue.message}`;
    });
    throw new ConfigError([...new Set(problems)].join('; '));
  }
  const vars = parsed.data;
  const storageKind = vars.STORAGE ?? (vars.AWS_BUCKET ? 's3' : 'local');
  return {
    env: vars.NODE_ENV ?? 'development',
    host: vars.HOST,
    port: vars.PORT,
    publicUrl: vars.PUBLIC_URL?.replace(/\/+$/, ''),
    logLevel: vars.LOG_LEVEL,
    storage: storageKind === 's3' ? s3Config(vars) : localConfig(vars),
    auth: authConfig(vars),
    uploads: {
      allowedFileTypes: vars.ALLOWED_FILE_TYPES ? commaList(vars.ALLOWED_FILE_TYPES) : DEFAULT_ALLOWED_FILE_TYPES,
      maxUploadBytes: vars.MAX_UPLOAD_BYTES,
      checkFileType: vars.FILE_TYPE_CHECK,
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
      signedUrlsPerWorkspace: vars.RATE_LIMIT_SIGNED_URLS_PER_WORKSPACE,
      redisUrl: vars.REDIS_URL,
    },
    requestLimits: { maxCallsPerBatch: vars.MAX_CALLS_PER_BATCH, maxPartsPerRequest: vars.MAX_PARTS_PER_REQUEST },
    uploadCleanup: { ttlHours: vars.UPLOAD_TTL_HOURS, intervalMinutes: vars.UPLOAD_CLEANUP_INTERVAL_MINUTES },
    catalog: vars.DATABASE_URL
      ? { kind: 'postgres', url: vars.DATABASE_URL }
      : { kind: 'pglite', dataDir: embeddedCatalogDir(vars.STORAGE_DIR) },
    quotas: { defaultQuotaBytes: vars.WORKSPACE_QUOTA_BYTES || undefined },
    webhooks: {
      dispatcher: vars.WEBHOOK_DISPATCHER,
      timeoutMs: vars.WEBHOOK_TIMEOUT_MS,
      retryWindowMs: vars.WEBHOOK_RETRY_WINDOW_SECONDS * 1000,
      backoffBaseMs: vars.WEBHOOK_BACKOFF_BASE_MS,
      backoffMaxMs: vars.WEBHOOK_BACKOFF_MAX_MS,
      concurrency: vars.WEBHOOK_CONCURRENCY,
      allowedPrivateTargets: vars.WEBHOOK_ALLOWED_PRIVATE_TARGETS ? commaList(vars.WEBHOOK_ALLOWED_PRIVATE_TARGETS) : [],
    },
    events: { pollIntervalMs: vars.EVENT_POLL_INTERVAL_MS, retentionDays: vars.EVENT_RETENTION_DAYS },
    uppy: {
      capabilitySecret: vars.UPPY_CAPABILITY_SECRET,
      maxCapabilitySeconds: vars.UPPY_CAPABILITY_MAX_SECONDS,
      formMaxBytes: vars.UPPY_FORM_MAX_BYTES,
    },
  };
}

/**
 * Loads `.env` from the working directory, or the file ENV_FILE names, into process.env when it
 * is there. Node's own parser does the work (process.loadEnvFile, as `node --env-file`), and it
 * never overrides a variable the real environment sets, even to an empty value. Into process.env
 * rather than beside it, because the AWS SDK reads some settings only there (AWS_PROFILE,
 * AWS_CONFIG_FILE). Only the real environment can name ENV_FILE. Returns the file read, if any.
 */
export function loadEnvFile(): string | undefined {
  const named = process.env.ENV_FILE || undefined;
  const path = resolve(named ?? '.env');
  const setting = `${showSetting('ENV_FILE', named ?? '.env')}${named === path ? '' : ` (${path})`}`;
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    if (named === undefined && code === 'ENOENT') return undefined;
    throw new ConfigError(`${setting}: cannot be read (${typeof code === 'string' ? code : String(error)})`);
  }
  const line = firstMalformedLine(text);
  if (line !== undefined) {
    throw new ConfigError(`${setting}: line ${line} is not NAME=value; fix it or make it a # comment`);
  }
  process.loadEnvFile(path);
  return path;
}

const ASSIGNMENT = /^(?:export\s+)?[A-Za-z_][A-Za-z0-9_.-]*\s*=(.*)$/;

/**
 * Node's parser skips lines it cannot read without a word, so `PORT 4000` would quietly leave the
 * default in place. Blank lines, # comments and NAME=value are fine; a quoted value may go on over
 * several lines up to its closing quote, as Node reads it.
 */
function firstMalformedLine(text: string): number | undefined {
  const lines = text.split(/\r?\n/);
  for (let index = 0; index < lines.length; index += 1) {
    const line = lines[index]!.trim();
    if (line === '' || line.startsWith('#')) continue;
    const match = ASSIGNMENT.exec(line);
    if (!match) return index + 1;
    const value = match[1]!.trim();
    const quote = value[0];
    if ((quote === '"' || quote === "'" || quote === '`') && !value.slice(1).includes(quote)) {
      const closing = lines.findIndex((next, later) => later > index && next.includes(quote));
      if (closing !== -1) index = closing;
    }
  }
  return undefined;
}

/**
 * `true` would trust any X-Forwarded-For a client writes, so anyone could pick the address the
 * per-IP limit counts; only a hop count or the proxies' own addresses are accepted.
 */
function trustProxy(value: string | undefined): number | string[] | undefined {
  if (value === undefined || value.trim() === 'false' || value.trim() === '0') return undefined;
  if (/^\d+$/.test(value.trim())) return Number(value.trim());
  if (value.trim() === 'true') {
    throw new ConfigError(
      'TRUST_PROXY=true: would trust any X-Forwarded-For a client writes; give the number of proxy hops (1) or their addresses',
    );
  }
  const entries = commaList(value);
  const bad = entries.filter((entry) => !isProxyAddress(entry));
  if (bad.length > 0) {
    throw new ConfigError(
      `${showSetting('TRUST_PROXY', value)}: ${bad.map((entry) => JSON.stringify(entry)).join(', ')} ${bad.length > 1 ? 'are' : 'is'} not an address, a subnet (10.0.0.0/8) or loopback, linklocal, uniquelocal`,
    );
  }
  return entries;
}

function commaList(value: string): string[] {
  return value
    .split(',')
    .map((item) => item.trim())
    .filter(Boolean);
}

function authConfig(vars: z.output<typeof envSchema>): AuthConfig {
  if (vars.AUTH_JWT_SECRET && vars.AUTH_JWKS_URL) {
    const both = `${showSetting('AUTH_JWT_SECRET', vars.AUTH_JWT_SECRET)}, ${showSetting('AUTH_JWKS_URL', vars.AUTH_JWKS_URL)}`;
    throw new ConfigError(`${both}: both are set; set one of them`);
  }
  if (!vars.AUTH_JWT_SECRET && !vars.AUTH_JWKS_URL) {
    if (vars.NODE_ENV === 'production' && !vars.AUTH_DISABLED) {
      throw new ConfigError(
        'AUTH_JWT_SECRET=(unset), AUTH_JWKS_URL=(unset): one is required when NODE_ENV=production (AUTH_DISABLED=true runs without authorization)',
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
    maxTokenLifetimeSeconds: vars.AUTH_MAX_TOKEN_LIFETIME_SECONDS,
  };
}

function localConfig(vars: z.output<typeof envSchema>): LocalStoreConfig {
  const config: LocalStoreConfig = { kind: 'local', dir: vars.STORAGE_DIR, signingSecret: vars.LOCAL_SIGNING_SECRET };
  return vars.LOCAL_ORPHAN_AGE_SECONDS === undefined ? config : { ...config, orphanAgeMs: vars.LOCAL_ORPHAN_AGE_SECONDS * 1000 };
}

function s3Config(vars: z.output<typeof envSchema>): S3StoreConfig {
  if (!vars.AWS_BUCKET) throw new ConfigError('AWS_BUCKET=(unset): required when STORAGE=s3');
  if (Boolean(vars.AWS_ACCESS_KEY_ID) !== Boolean(vars.AWS_SECRET_ACCESS_KEY)) {
    const set = vars.AWS_ACCESS_KEY_ID ? 'AWS_ACCESS_KEY_ID' : 'AWS_SECRET_ACCESS_KEY';
    const unset = vars.AWS_ACCESS_KEY_ID ? 'AWS_SECRET_ACCESS_KEY' : 'AWS_ACCESS_KEY_ID';
    throw new ConfigError(`${unset}=(unset): ${set} is set; set both, or neither to use the SDK's default credential chain`);
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
