import type { AccessPolicy, CallerInfo } from './auth/policy.js';
import type { Catalog, QuotaRules } from './catalog/catalog.js';
import type { UploadRules, WebhookSettings } from './config.js';
import type { EventFeed } from './events/event-feed.js';
import type { Logger } from './logger.js';
import type { ObjectStore } from './storage/store.js';
import type { CapabilityIssuer } from './uppy/capability.js';

/** What every call may use, whoever makes it: the same for all requests of one app. */
export interface ContextDependencies {
  store: ObjectStore;
  /** What each workspace owns: names, sizes, open uploads, quotas. */
  catalog: Catalog;
  policy: AccessPolicy;
  uploads: UploadRules;
  quotas: QuotaRules;
  logger: Logger;
  /** The live feed of this process, for the event subscription; absent without one (router tests). */
  events?: EventFeed;
  /** How webhooks are sent and where they may point; absent: DEFAULT_WEBHOOK_SETTINGS, public targets only. */
  webhooks?: WebhookSettings;
  /** Mints the capabilities of Uppy's endpoint (uppy.capability); absent without HTTP (router tests). */
  uppyCapabilities?: CapabilityIssuer;
}

/**
 * What a call tells the transport it came through, once its workspace is authorized: the request
 * log learns the workspace, and the call spends the workspace's rate budget. The HTTP adapters
 * fill these in; without HTTP (router tests, scripts) there is nothing to tell.
 */
export interface CallHooks {
  noteWorkspace?(workspaceId: string): void;
  /** RATE_LIMITED once the workspace's budget for the window is spent. */
  spendWorkspaceBudget?(workspaceId: string): Promise<void>;
  /** RATE_LIMITED when signing `urls` more part URLs would pass the workspace's budget of them. */
  spendSigningBudget?(workspaceId: string, urls: number): Promise<void>;
}

/** The context of one procedure call. */
export interface AppContext extends ContextDependencies {
  caller: CallerInfo;
  /**
   * Aborted when the HTTP client goes away, so long reads stop with it. A function, made on first
   * call: tRPC copies the context into every middleware's `next({ ctx })`, and a getter would be
   * run by each copy (an AbortSignal per call that never reads it).
   */
  signal(): AbortSignal | undefined;
  hooks: CallHooks;
  /** `scheme://host[:port]` the request came to (`trust proxy` honoured), for absolute URLs in answers; a function for the reason `signal` is. */
  requestOrigin(): string | undefined;
}

export interface CallOptions {
  caller?: CallerInfo;
  /** The call's logger, made on first use (most calls never log); the app's logger otherwise. */
  logger?: () => Logger;
  /** Made on first use: only downloads read it, and an AbortSignal is not free. */
  signal?: () => AbortSignal;
  hooks?: CallHooks;
  /** Made on first use: only uppy.capability reads it. */
  requestOrigin?: () => string;
}

/**
 * The context of one call without HTTP, as router tests build it for `createCaller`; the HTTP
 * adapters build theirs with it (http/request-context.ts). A caller with no headers is anonymous.
 */
export function createContextInner(deps: ContextDependencies, options: CallOptions = {}): AppContext {
  const { logger, signal } = options;
  return {
    store: deps.store,
    catalog: deps.catalog,
    policy: deps.policy,
    uploads: deps.uploads,
    quotas: deps.quotas,
    events: deps.events,
    webhooks: deps.webhooks,
    uppyCapabilities: deps.uppyCapabilities,
    caller: options.caller ?? { headers: {} },
    hooks: options.hooks ?? {},
    get logger() {
      return logger ? logger() : deps.logger;
    },
    signal: () => signal?.(),
    requestOrigin: () => options.requestOrigin?.(),
  };
}
