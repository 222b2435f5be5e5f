import type { SegmentReader, SegmentReaderOptions } from "@lora/wal-segment";

/** One read buffer for a whole walk, handed from each segment's reader to the next. */
export class ReadBufferRelay {
  #buffer: Uint8Array | undefined;

  /** Keep the buffer of `reader` (being closed) for the next segment's reader. */
  keepFrom(reader: SegmentReader): void {
    // The next segment reuses the buffer, unless one large record grew it past the read size: holding up to a
    // maximum-size record's worth of memory for the rest of the walk would cost more than one allocation saves.
    const buffer = reader.readBuffer;
    this.#buffer = buffer.byteLength <= reader.chunkBytes ? buffer : undefined;
  }

  /** Forget the kept buffer (the walk stopped reading files): its memory is freed with the last reader's. */
  release(): void {
    this.#buffer = undefined;
  }

  /** The next segment reader's options: the walk's `chunkBytes`, and the buffer kept, if any. */
  readerOptions(chunkBytes: number | undefined): SegmentReaderOptions {
    const readBuffer = this.#buffer;
    return {
      ...(chunkBytes === undefined ? {} : { chunkBytes }),
      ...(readBuffer === undefined ? {} : { readBuffer }),
    };
  }
}
