/**
 * `bytesCodec`: an event is an opaque `Uint8Array`. A single-event payload is the bytes themselves; a batch is
 * `count u64` followed by `count` × (`length u64`, bytes). Decoded events are copies, never views of the input;
 * small ones are copied into shared slabs (see {@link bytesCodec}).
 */

import { countTooLarge, truncatedPayload } from "./byte-reader.js";
import type { ByteWriter } from "./byte-writer.js";
import { WalError } from "./errors.js";
import { declareFreshBatches } from "./fresh-batches.js";
import { readU32 } from "./little-endian.js";
import type { PayloadCodec } from "./payload-codec.js";

function assertBytes(event: unknown): asserts event is Uint8Array {
  if (!(event instanceof Uint8Array)) throw new WalError("WAL_ENCODE", "bytesCodec events must be Uint8Array");
}

/** Size of one slab that small decoded events are copied into. */
export const BYTES_SLAB_BYTES = 8192;
/** Events longer than this get an array of their own: a big event must not pin (or waste) a slab. */
export const BYTES_SLAB_MAX_EVENT = 1024;

/*
 * Why slabs: a 100-byte `Uint8Array` is above V8's on-heap typed-array limit, so a fresh copy per event costs an
 * off-heap backing store (malloc, an ArrayBuffer, external-memory accounting) and was the largest single cost of
 * replaying small events, and its garbage rate inflated the heap V8 chose. Copying into a shared slab costs one
 * view per event and one backing store per 8 KiB. A slab region is handed out once and never written again, so an
 * event's bytes cannot change under it; the slab is simply dropped (and collected once its events are) when full.
 */
let slab = new Uint8Array(BYTES_SLAB_BYTES);
/** `slab.buffer`, kept beside it: reading a typed array's `buffer` is a runtime call per event in V8 11. */
let slabBuffer = slab.buffer;
let slabUsed = 0;

/** A copy of `bytes[start, end)` that never shares memory with `bytes`: `bytesCodec.decodeEvent` of that range. */
export function bytesDecodeEventAt(bytes: Uint8Array, start: number, end: number): Uint8Array {
  const length = end - start;
  if (length > BYTES_SLAB_MAX_EVENT) {
    const own = new Uint8Array(length);
    own.set(bytes.subarray(start, end));
    return own;
  }
  // A detached slab (someone transferred an event's `buffer`) has length 0 and is replaced like a full one.
  if (slab.length - slabUsed < length || slab.length === 0) {
    slab = new Uint8Array(BYTES_SLAB_BYTES);
    slabBuffer = slab.buffer;
    slabUsed = 0;
  }
  const at = slabUsed;
  // 8-byte aligned starts, so a caller may lay a wider typed array over an event's bytes.
  slabUsed = (at + length + 7) & ~7;
  // A byte loop beats `set(subarray)` only for a handful of bytes: the view costs as much as the copy.
  if (length <= 16) for (let i = 0; i < length; i++) slab[at + i] = bytes[start + i] as number;
  else slab.set(bytes.subarray(start, end), at);
  return new Uint8Array(slabBuffer, at, length);
}

/**
 * A u64 count or length at `at`, at most the bytes after it up to `end` (the same sanity bound as
 * `ByteReader.count`: a corrupt count is rejected before it can drive an allocation).
 */
function readCount(bytes: Uint8Array, at: number, end: number, label: string): number {
  if (end - at < 8) throw truncatedPayload();
  const lo = readU32(bytes, at);
  const hi = readU32(bytes, at + 4);
  if (hi !== 0 || lo > end - at - 8) throw countTooLarge(label, hi, lo);
  return lo;
}

/**
 * `bytesCodec.decodeBatch(bytes.subarray(start, end))` without the view; record decoding calls it (and
 * {@link bytesDecodeEventAt}) directly when the codec is `bytesCodec` itself. Not through the codec object: a copy
 * such as `{ ...bytesCodec, decodeBatch }` must keep using the `decodeBatch` it was given.
 */
export function bytesDecodeBatchAt(bytes: Uint8Array, start: number, end: number): Uint8Array[] {
  const count = readCount(bytes, start, end, "bytes event");
  let at = start + 8;
  // The array is made with its first event (`[event]`, room for one): an empty array grown by a push allocates room
  // for 17, and a one-event batch (what `commitTx([event])` writes) spent 128 of the ~400 bytes its decoding
  // allocated on it.
  let events: Uint8Array[] | undefined;
  for (let i = 0; i < count; i++) {
    const length = readCount(bytes, at, end, "bytes");
    at += 8;
    const event = bytesDecodeEventAt(bytes, at, at + length);
    if (events === undefined) events = [event];
    else events.push(event);
    at += length;
  }
  if (at !== end) throw new WalError("WAL_DECODE", `trailing bytes in bytes batch payload: ${end - at}`);
  return events ?? [];
}

/**
 * Events are opaque `Uint8Array`s.
 *
 * Decoded events are copies: they never share memory with the payload (or the read buffer it came from), and their
 * bytes are never written again by the codec, so they are the caller's to keep. To save an allocation per event,
 * though, events up to 1 KiB are copied into a shared 8 KiB slab: `event.buffer` may be
 * shared with other events (and is larger than the event), so address an event's bytes through `byteOffset` and
 * `byteLength` (or `event.slice()` for a private copy), never through `event.buffer` alone. Slab events start
 * 8-byte aligned. A kept event keeps its slab (at most 8 KiB) alive, and cloning an event (`structuredClone`,
 * `postMessage`) copies the whole slab; do not transfer or detach an event's `buffer`.
 *
 * @throws {@link WalError} `WAL_ENCODE` for an event that is not a `Uint8Array`; `WAL_DECODE` for a malformed batch.
 */
export const bytesCodec: PayloadCodec<Uint8Array> = {
  name: "bytes",
  encodeEvent(event: Uint8Array, out: ByteWriter): void {
    assertBytes(event);
    out.raw(event);
  },
  encodeBatch(events: readonly Uint8Array[], out: ByteWriter): void {
    // By index, up to the count written: an iterator of its own could yield another number of events.
    const count = events.length;
    out.u64(count);
    for (let i = 0; i < count; i++) {
      const event = events[i] as Uint8Array;
      assertBytes(event);
      out.bytes(event);
    }
  },
  decodeEvent(payload: Uint8Array): Uint8Array {
    return bytesDecodeEventAt(payload, 0, payload.length);
  },
  decodeBatch(payload: Uint8Array): Uint8Array[] {
    return bytesDecodeBatchAt(payload, 0, payload.length);
  },
};
declareFreshBatches(bytesCodec);
