/**
 * The codec of framing-only reading (`--codec framing`, and the fallback when the default codec does not decode a
 * log): it accepts every payload and decodes none, so a walk or a replay with it checks exactly what does not
 * depend on the codec (headers, record lengths, CRCs, kinds, LSNs, transaction structure) and can never report a
 * payload as damaged.
 */

import { type PayloadCodec, WalError } from "@lora/wal-codec";

function refuse(): never {
  throw new WalError("WAL_ENCODE", "the framing-only codec cannot encode (it is for reading a log)");
}

/**
 * Decodes nothing: a single-event payload reads as `null` and a batch as no events (its event count is in the
 * payload, which only the log's own codec can read). Callers in framing-only mode show the payload's size, not its
 * events.
 */
export const framingOnlyCodec: PayloadCodec<unknown> = {
  name: "framing",
  encodeEvent: refuse,
  encodeBatch: refuse,
  decodeEvent: () => null,
  decodeBatch: () => [],
};
