/**
 * Runs tasks that share a name one after another, and tasks with different names freely. It
 * serializes what must not interleave within this process (part commits, completes and aborts of
 * one upload; commits and deletes of one key); several processes on one folder are not a goal.
 */
export class KeyedLock {
  readonly #tails = new Map<string, Promise<void>>();

  async run<T>(name: string, task: () => Promise<T>): Promise<T> {
    const previous = this.#tails.get(name) ?? Promise.resolve();
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const tail = previous.then(() => gate);
    this.#tails.set(name, tail);
    await previous;
    try {
      return await task();
    } finally {
      release();
      // The last waiter leaves no entry behind, so the map does not grow with every upload.
      if (this.#tails.get(name) === tail) this.#tails.delete(name);
    }
  }
}
