import { resolve } from 'node:path';
import { ConfigError, createApp, createLogger, createPolicy, createStore, listen, loadConfig, type Config } from '@s3-service/server';

/** Reads the configuration, builds the store and serves the API: nothing else. */
async function main(): Promise<void> {
  const config = loadConfig();
  const logger = createLogger({ level: config.logLevel });
  let boundUrl = '';
  const store = await createStore(config.storage, { publicUrl: () => config.publicUrl ?? boundUrl });
  const app = createApp({
    store,
    logger,
    policy: createPolicy(config.auth),
    uploads: config.uploads,
    corsOrigins: config.apiCorsOrigins,
  });
  const running = await listen(app, { host: config.host, port: config.port });
  boundUrl = reachableUrl(running.url);
  logger.info({ url: running.url, store: store.kind }, `s3-service listening on ${running.url} (store: ${describeStore(config)})`);
  if (config.auth.mode === 'open') {
    logger.warn('AUTHORIZATION IS OFF: anyone who reaches this server can use every workspace. Set AUTH_JWT_SECRET or AUTH_JWKS_URL.');
  }
  if (!config.publicUrl && boundUrl !== running.url) {
    logger.warn(`signed URLs point at ${boundUrl}; set PUBLIC_URL to the address clients use`);
  }

  const stop = async (signal: string) => {
    logger.info({ signal }, 'shutting down');
    await running.close();
    await store.close?.();
    process.exit(0);
  };
  process.once('SIGTERM', () => void stop('SIGTERM'));
  process.once('SIGINT', () => void stop('SIGINT'));
}

function describeStore(config: Config): string {
  const storage = config.storage;
  if (storage.kind === 'local') return `local disk at ${resolve(storage.dir)}`;
  return `S3 bucket ${storage.bucket}${storage.endpoint ? ` at ${storage.endpoint}` : ` in ${storage.region}`}`;
}

/** A server bound to every interface is reached through loopback from this machine. */
function reachableUrl(url: string): string {
  return url.replace('://0.0.0.0:', '://127.0.0.1:').replace('://[::]:', '://127.0.0.1:');
}

main().catch((error: unknown) => {
  if (error instanceof ConfigError) {
    console.error(error.message);
  } else {
    console.error('s3-service failed to start:', error);
  }
  process.exit(1);
});
