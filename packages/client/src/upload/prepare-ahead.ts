/**
 * Prepares items of an async iterator a few ahead of the workers that take them, in order: with
 * checksums a part must be read, hashed and signed before its PUT, and doing that while other
 * parts are on the wire keeps the PUTs back to back. `depth` items wait prepared at most, so
 * memory grows by that many parts; 0 prepares each item only when a worker asks for it.
 */
export class PrepareAhead<T, U> {
  private readonly waiting: Array<Promise<IteratorResult<U, undefined>>> = [];

  constructor(
    private readonly source: AsyncIterator<T>,
    private readonly prepare: (item: T) => Promise<U>,
    private readonly depth: number,
  ) {}

  /** Safe to call from several workers at once: each gets the next item. */
  next(): Promise<IteratorResult<U, undefined>> {
    while (this.waiting.length < this.depth + 1) {
      const item = this.pull();
      // A failure surfaces when its worker takes it; one no worker takes must not go unhandled.
      item.catch(() => {});
      this.waiting.push(item);
    }
    return this.waiting.shift()!;
  }

  private async pull(): Promise<IteratorResult<U, undefined>> {
    const next = await this.source.next();
    if (next.done) return { done: true, value: undefined };
    return { done: false, value: await this.prepare(next.value) };
  }
}
