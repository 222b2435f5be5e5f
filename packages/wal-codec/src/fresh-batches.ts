/**
 * Codecs whose `decodeBatch` returns a new array on every call, nowhere else referenced: a reader may keep that
 * array as a transaction's events and append to it, instead of copying its events into an array of its own. Known by
 * identity, so a copy of such a codec with another `decodeBatch` (`{ ...bytesCodec, decodeBatch }`) is not.
 */

import type { PayloadCodec } from "./payload-codec.js";

const fresh = new WeakSet<object>();

/**
 * Declare that `codec.decodeBatch` returns a new array on each call, which the caller may keep and extend (replay
 * then takes a transaction's first batch as its events array). The codecs of this package are declared. Returns
 * `codec`.
 */
export function declareFreshBatches<C extends PayloadCodec<unknown>>(codec: C): C {
  fresh.add(codec);
  return codec;
}

/** Whether `codec` (this very object) was declared with {@link declareFreshBatches}. */
export function returnsFreshBatches(codec: PayloadCodec<unknown>): boolean {
  return fresh.has(codec);
}
