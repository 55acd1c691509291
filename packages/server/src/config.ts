import { z } from 'zod';

const booleanFlag = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'], { error: 'must be true or false' })
  .transform((value) => value === 'true' || value === '1' || value === 'yes');

const httpUrl = z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' });

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
}

export interface Config {
  env: 'development' | 'production' | 'test';
  host: string;
  port: number;
  /** Base of URLs this server signs for itself (local store); set it behind a proxy. */
  publicUrl?: string;
  logLevel: string;
  storage: LocalStoreConfig | S3StoreConfig;
}

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
  };
}
