/**
 * The process's foreground work (API requests), as background work sees it: the webhook
 * dispatcher waits for a lull before its statements and sends, so that on a small machine (and
 * on PGlite, whose statements run one at a time in this thread) a delivery does not run in the
 * middle of the next request. It never waits longer than it is told: deliveries always go out.
 */
export interface Foreground {
  /** Resolves once no request has run for a moment, or after `maxWaitMs` at the latest. */
  lull(maxWaitMs: number): Promise<void>;
}
