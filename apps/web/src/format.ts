const UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];

/** `23.0 MiB`: binary units, as the part sizes are. */
export function formatBytes(bytes: number): string {
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < UNITS.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return unit === 0 ? `${value} B` : `${value.toFixed(value < 10 ? 2 : 1)} ${UNITS[unit]}`;
}

export function formatSpeed(bytesPerSecond: number | undefined): string {
  return bytesPerSecond === undefined ? '' : `${formatBytes(Math.round(bytesPerSecond))}/s`;
}

/** Whole percent, never 100 before the last byte (a rounded 99.6 % would look finished). */
export function percentOf(loaded: number, total: number): number {
  if (total <= 0) return loaded >= total ? 100 : 0;
  const percent = Math.floor((loaded / total) * 100);
  return loaded >= total ? 100 : Math.min(percent, 99);
}

export function formatDate(date: Date): string {
  return date.toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' });
}
