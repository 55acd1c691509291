/**
 * One number for the bar from two sources: the SDK's count of stored bytes (parts answered, and
 * parts a resumed upload already had) and the bytes of parts still on the wire (from XHR). The
 * shown value never goes back: a retried part restarts its own count from zero.
 */
export class UploadProgress {
  private stored = 0;
  private readonly onWire = new Map<string, number>();
  private shown = 0;

  constructor(readonly total: number) {}

  /** The SDK's `loaded`. */
  setStored(bytes: number): void {
    this.stored = Math.max(this.stored, bytes);
  }

  /** A PUT to `url` has sent `sent` bytes; returns how many are new, for the speed meter. */
  sending(url: string, sent: number): number {
    const before = this.onWire.get(url) ?? 0;
    this.onWire.set(url, sent);
    return Math.max(0, sent - before);
  }

  /**
   * The PUT is over. Its bytes leave the wire count now and reach the SDK's count a moment
   * later (when it has read the answer); `loaded` holds its value in between.
   */
  settled(url: string): void {
    this.onWire.delete(url);
  }

  get loaded(): number {
    let wire = 0;
    for (const sent of this.onWire.values()) wire += sent;
    this.shown = Math.min(this.total, Math.max(this.shown, this.stored + wire));
    return this.shown;
  }
}
