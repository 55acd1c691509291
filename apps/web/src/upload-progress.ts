import type { UploadProgress as SdkProgress } from '@s3-service/client';

/**
 * The bar's number from the SDK's reports, which already count bytes while a part is on the wire
 * and never go back (a retried or paused part holds its count). What is left here is the page's
 * own rule for the speed: only bytes that went out count, not the parts a resumed upload already
 * had (`kept`), which arrive all at once and would show as a burst of speed.
 */
export class UploadProgress {
  private shown = 0;

  constructor(readonly total: number) {}

  /** Takes one report; returns how many bytes went over the wire since the last, for the speed meter. */
  update(report: Pick<SdkProgress, 'loaded' | 'kept'>): number {
    const loaded = Math.min(this.total, Math.max(this.shown, report.loaded));
    const moved = loaded - this.shown;
    this.shown = loaded;
    return report.kept ? 0 : moved;
  }

  get loaded(): number {
    return this.shown;
  }
}
