/**
 * `bytesCodec`: an event is an opaque `Uint8Array`. A single-event payload is the bytes themselves; a batch is
 * `count u64` followed by `count` × (`length u64`, bytes). Decoded events are copies, never views of the input.
 */

import { ByteReader, copyBytes } from "./byte-reader.js";
import type { ByteWriter } from "./byte-writer.js";
import { WalError } from "./errors.js";
import type { PayloadCodec } from "./payload-codec.js";

function assertBytes(event: unknown): asserts event is Uint8Array {
  if (!(event instanceof Uint8Array)) throw new WalError("WAL_ENCODE", "bytesCodec events must be Uint8Array");
}

/**
 * Events are opaque `Uint8Array`s (decoded events are copies).
 * @throws {@link WalError} `WAL_ENCODE` for an event that is not a `Uint8Array`; `WAL_DECODE` for a malformed batch.
 */
export const bytesCodec: PayloadCodec<Uint8Array> = {
  name: "bytes",
  encodeEvent(event: Uint8Array, out: ByteWriter): void {
    assertBytes(event);
    out.raw(event);
  },
  encodeBatch(events: readonly Uint8Array[], out: ByteWriter): void {
    out.u64(events.length);
    for (const event of events) {
      assertBytes(event);
      out.bytes(event);
    }
  },
  decodeEvent(payload: Uint8Array): Uint8Array {
    return copyBytes(payload);
  },
  decodeBatch(payload: Uint8Array): Uint8Array[] {
    const reader = new ByteReader(payload);
    const count = reader.count("bytes event");
    const events: Uint8Array[] = [];
    for (let i = 0; i < count; i++) events.push(reader.bytes());
    if (reader.remaining !== 0) {
      throw new WalError("WAL_DECODE", `trailing bytes in bytes batch payload: ${reader.remaining}`);
    }
    return events;
  },
};
