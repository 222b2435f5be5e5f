/**
 * The check every entry point that takes a `codec` option runs first: a missing codec or an object that does not
 * implement {@link PayloadCodec} is a caller's mistake, refused with a code before anything is read or written
 * (without it, a missing codec fails later with a `TypeError`, and `{}` as a codec mismatch naming "undefined").
 */

import { WalError } from "./errors.js";
import type { PayloadCodec } from "./payload-codec.js";

/**
 * Assert that `codec` implements {@link PayloadCodec}: a string `name` and the four encode/decode methods.
 * @throws {@link WalError} `WAL_INVALID_OPTION` otherwise.
 */
export function checkPayloadCodec(codec: unknown): asserts codec is PayloadCodec<unknown> {
  const c = codec as Partial<PayloadCodec<unknown>> | null | undefined;
  if (
    c === null ||
    typeof c !== "object" ||
    typeof c.name !== "string" ||
    typeof c.encodeEvent !== "function" ||
    typeof c.encodeBatch !== "function" ||
    typeof c.decodeEvent !== "function" ||
    typeof c.decodeBatch !== "function"
  ) {
    throw new WalError(
      "WAL_INVALID_OPTION",
      "codec must implement PayloadCodec (name, encodeEvent, encodeBatch, decodeEvent, decodeBatch)",
    );
  }
}
