/**
 * What the uploader reads from. Every input (Blob, bytes, stream, file path) becomes an
 * UploadSource that hands out parts one at a time, so the uploader decides how many are in
 * memory: a part is read only when a worker is free to send it.
 */

/** A part's bytes: in memory, or a Blob slice the platform reads while sending. */
export type PartPayload = Uint8Array<ArrayBuffer> | Blob;

export interface SourcePart {
  partNumber: number;
  size: number;
  /** Reads the bytes; random-access sources read only now, so skipped parts cost nothing. */
  read(): Promise<PartPayload>;
}

export interface UploadSource {
  /** Total bytes when known up front (Blob, bytes, file); streams learn it at their end. */
  readonly size: number | undefined;
  /** A Content-Type guessed from the input (a Blob's type, a file name's extension). */
  readonly fileType: string | undefined;
  /** The input's own name (a File's name, a path's last segment), saved as the asset's name. */
  readonly fileName: string | undefined;
  /** True when `parts` may be walked again, reading the same bytes (files, Blobs, bytes; not streams). */
  readonly rereadable: boolean;
  /**
   * Parts in order, from part 1. Async generators queue concurrent `next()` calls, so several
   * workers may pull from one iterator safely.
   */
  parts(partSize: number): AsyncGenerator<SourcePart, void, undefined>;
  /** Releases the input: closes a file handle, destroys a half-read stream. Safe to call twice. */
  close(): Promise<void>;
}
