/** Long enough to smooth out bursts of upload progress events, short enough to follow a change. */
const WINDOW_MS = 3000;

/** Bytes per second over the last few seconds of bytes that really went over the wire. */
export class SpeedMeter {
  private samples: Array<{ at: number; bytes: number }> = [];
  private started = false;

  constructor(private readonly now: () => number = () => performance.now()) {}

  add(bytes: number): void {
    if (bytes <= 0) return;
    this.started = true;
    this.samples.push({ at: this.now(), bytes });
    this.trim();
  }

  /** Undefined until there is enough to measure; 0 once nothing has moved for the whole window (a stall). */
  bytesPerSecond(): number | undefined {
    this.trim();
    const first = this.samples[0];
    if (!first) return this.started ? 0 : undefined;
    if (this.samples.length < 2) return undefined;
    const elapsed = Math.max(this.now() - first.at, 250);
    const bytes = this.samples.reduce((sum, sample) => sum + sample.bytes, 0);
    return (bytes / elapsed) * 1000;
  }

  private trim(): void {
    const oldest = this.now() - WINDOW_MS;
    while (this.samples.length > 0 && this.samples[0]!.at < oldest) this.samples.shift();
  }
}
