import type { TRPCClient } from '@trpc/client';
import type { inferRouterOutputs } from '@trpc/server';
import { EventSource } from 'eventsource';
import type { AppRouter } from './contract.js';
import { type S3ServiceError, toServiceError } from './errors.js';
import type { HttpContext } from './http.js';

/**
 * What the subscription yields: each event under its id (tRPC's tracked envelope, which lets the
 * link resume from the last one after a reconnect), typed by the router.
 */
type TrackedAssetEvent = inferRouterOutputs<AppRouter>['events']['subscribe'] extends AsyncIterable<infer T> ? T : never;

/**
 * An event of a workspace, in the one shape the service tells apps everywhere (webhook bodies,
 * the live stream, `onAssetEvent`): `asset.created`, `asset.deleted`, `upload.aborted`,
 * `upload.expired`. From the server's zod schema through the router's type.
 */
export type AssetEvent = TrackedAssetEvent['data'];
export type AssetEventType = AssetEvent['type'];

/** Whether the stream is connected (`live`) or (re)connecting; events lost meanwhile follow once it is back. */
export type EventStreamState = 'connecting' | 'live';

export interface EventsOptions {
  workspaceId: string;
  /** Resume after this event (the id of the last one this app handled): every later one comes first, in order. */
  lastEventId?: string;
  onEvent(event: AssetEvent): void;
  /**
   * The stream ended for good: refused (FORBIDDEN, UNAUTHORIZED), or resuming from
   * `lastEventId` was impossible (INVALID_PARAMETER: not an event of the workspace, or pruned;
   * reload what you show and subscribe without it). Dropped connections are not errors: the
   * client reconnects by itself and resumes from the last event it got.
   */
  onError?(error: S3ServiceError | Error): void;
  /** Connection changes, e.g. to show "reconnecting"; `error` says why it dropped, when known. */
  onStateChange?(state: EventStreamState, error?: unknown): void;
  /** Ends the subscription, like calling the returned function. */
  signal?: AbortSignal;
}

/** Ends the subscription; calling it again does nothing. */
export type Unsubscribe = () => void;

/** The workspace's events as they happen (tRPC subscription over SSE), until unsubscribed. */
export function subscribeToEvents(trpc: TRPCClient<AppRouter>, options: EventsOptions): Unsubscribe {
  const { workspaceId, lastEventId, onEvent, onError, onStateChange, signal } = options;
  if (signal?.aborted) return () => {};
  const subscription = trpc.events.subscribe.subscribe(
    { workspaceId, ...(lastEventId === undefined ? {} : { lastEventId }) },
    {
      onData: (tracked) => onEvent(tracked.data),
      onError: (error) => onError?.(toServiceError(error) as S3ServiceError | Error),
      onConnectionStateChange: (change) => {
        if (change.state === 'pending') onStateChange?.('live');
        else if (change.state === 'connecting') onStateChange?.('connecting', change.error ?? undefined);
      },
    },
  );
  const unsubscribe = () => {
    signal?.removeEventListener('abort', unsubscribe);
    subscription.unsubscribe();
  };
  signal?.addEventListener('abort', unsubscribe, { once: true });
  return unsubscribe;
}

/**
 * The EventSource of the subscription link, and how it connects. Browsers' own EventSource cannot
 * send headers, so a token would have to travel in the URL, where every access log keeps it: this
 * one (the `eventsource` package, in browsers and Node alike) opens the stream with the client's
 * fetch and the client's headers (Authorization), asked afresh for each (re)connection.
 */
export function eventSourceWithHeaders(http: HttpContext) {
  return {
    EventSource,
    eventSourceOptions: () => ({
      fetch: async (url: string | URL, init: { headers: Record<string, string> } & RequestInit) => {
        const headers = new Headers(await http.headers());
        // The EventSource's own (Accept, Last-Event-ID) win over the caller's.
        for (const [name, value] of Object.entries(init.headers)) headers.set(name, value);
        return http.fetch(url, { ...init, headers });
      },
    }),
  };
}
