/**
 * A hold a test opens in a call it drives: the call says `arrive()` when it reaches the hold and
 * waits for `released`; the test awaits `arrived`, does what must happen meanwhile, then `release()`.
 */
export function gate() {
  let release!: () => void;
  let arrive!: () => void;
  const released = new Promise<void>((resolve) => {
    release = resolve;
  });
  const arrived = new Promise<void>((resolve) => {
    arrive = resolve;
  });
  return { released, arrived, arrive, release };
}
