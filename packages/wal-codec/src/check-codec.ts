/**
 * The check every entry point that takes a `codec` option runs first: a missing codec or an object without the
 * methods it will call is a caller's mistake, refused with a code before anything is read or written (without it, a
 * missing codec fails later with a `TypeError`, and `{}` as a codec mismatch naming "undefined").
 */

import { WalError } from "./errors.js";
import type { PayloadCodec } from "./payload-codec.js";

/** What the caller does with a codec: readers only decode, so a decode-only codec serves them. */
export type PayloadCodecUse = "read" | "readWrite";

/**
 * Assert that `codec` has a string `name` and the methods `use` calls: `decodeEvent` and `decodeBatch` to read,
 * `encodeEvent` and `encodeBatch` as well to write.
 * @throws {@link WalError} `WAL_INVALID_OPTION` otherwise.
 */
export function checkPayloadCodec(
  codec: unknown,
  use: PayloadCodecUse = "readWrite",
): asserts codec is PayloadCodec<unknown> {
  const c = codec as Partial<PayloadCodec<unknown>> | null | undefined;
  const methods =
    use === "read"
      ? (["decodeEvent", "decodeBatch"] as const)
      : (["encodeEvent", "encodeBatch", "decodeEvent", "decodeBatch"] as const);
  if (
    c === null ||
    typeof c !== "object" ||
    typeof c.name !== "string" ||
    methods.some((method) => typeof c[method] !== "function")
  ) {
    throw new WalError("WAL_INVALID_OPTION", `codec must implement PayloadCodec (name, ${methods.join(", ")})`);
  }
}
