import { MAX_PARTS } from '../../schemas.js';

/**
 * Which part numbers (1..MAX_PARTS) an upload has a file for, as a bitset: 1.25 KiB per upload
 * however many parts it has, so thousands of cached uploads stay cheap.
 */
export class PartNumberSet {
  readonly #bits = new Uint8Array((MAX_PARTS >> 3) + 1);

  has(partNumber: number): boolean {
    return ((this.#bits[partNumber >> 3] ?? 0) & (1 << (partNumber & 7))) !== 0;
  }

  add(partNumber: number): void {
    const index = partNumber >> 3;
    this.#bits[index] = (this.#bits[index] ?? 0) | (1 << (partNumber & 7));
  }
}
