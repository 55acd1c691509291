import type { AssetEvent, S3ServiceClient, Unsubscribe } from '@s3-service/client';
import { describeError } from './describe-error.js';

export interface LiveEventsOptions {
  /** A quiet word beside the list's heading: live, reconnecting, or off (and why, in its title). */
  indicator: HTMLElement;
  onEvent(event: AssetEvent): void;
  /** Events may have been missed (the stream could not resume): what is shown should be listed again. */
  resync(): void;
}

/** Codes a new attempt with the same settings cannot fix: the settings must change first. */
const REFUSALS = new Set(['FORBIDDEN', 'UNAUTHORIZED']);
/** A stream that failed for another reason (a proxy's 502, a rate limit) is tried again after this. */
const RETRY_MS = 10_000;

/**
 * The workspace's live events (client.events, SSE) for the page shown: one subscription at a
 * time, replaced when the settings change. A dropped connection is routine: the SDK reconnects
 * and resumes by itself, and the page only says "reconnecting" in small grey letters.
 */
export class LiveEvents {
  private stop: Unsubscribe | undefined;
  private retry: ReturnType<typeof setTimeout> | undefined;
  /** Bumped by every follow(): callbacks of an older subscription are ignored. */
  private generation = 0;

  constructor(private readonly options: LiveEventsOptions) {}

  follow(client: S3ServiceClient, workspaceId: string): void {
    this.end();
    const generation = ++this.generation;
    const current = () => generation === this.generation;
    this.show('connecting', 'Connecting to live updates…');
    this.stop = client.events({
      workspaceId,
      onEvent: (event) => {
        if (current()) this.options.onEvent(event);
      },
      onStateChange: (state) => {
        if (!current()) return;
        if (state === 'live') this.show('live', 'New and deleted assets appear here as they happen.');
        else this.show('connecting', 'The live connection dropped; reconnecting.');
      },
      onError: (error) => {
        if (!current()) return;
        const view = describeError(error);
        this.show('off', `Live updates are off: ${view.code}. ${view.text}`);
        if (REFUSALS.has(view.code)) return;
        // Whatever happened meanwhile is not known: subscribe afresh and list again.
        this.retry = setTimeout(() => {
          if (!current()) return;
          this.follow(client, workspaceId);
          this.options.resync();
        }, RETRY_MS);
      },
    });
  }

  end(): void {
    clearTimeout(this.retry);
    this.stop?.();
    this.stop = undefined;
  }

  private show(state: 'connecting' | 'live' | 'off', title: string): void {
    const { indicator } = this.options;
    indicator.dataset.state = state;
    indicator.textContent = state === 'live' ? '● live' : state === 'connecting' ? '○ connecting' : '○ not live';
    indicator.title = title;
  }
}
