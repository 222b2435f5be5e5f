/**
 * The check every entry point that takes a `codec` option runs first: a missing codec or an object without the
 * methods it will call is a caller's mistake, refused with a code before anything is read or written (without it, a
 * missing codec fails later with a `TypeError`, and `{}` as a codec mismatch naming "undefined").
 */

import { shownError } from "./check-options.js";
import { WalError } from "./errors.js";
import type { PayloadCodec } from "./payload-codec.js";

/** What the caller does with a codec: readers only decode, so a decode-only codec serves them. */
export type PayloadCodecUse = "read" | "readWrite";

const READ_METHODS = ["decodeEvent", "decodeBatch"] as const;
const READ_WRITE_METHODS = ["encodeEvent", "encodeBatch", "decodeEvent", "decodeBatch"] as const;

/**
 * Why `value` is not a codec `use` can work with, in words for a message (`"has no 'decodeBatch' function"`), or
 * `undefined` when it is one: a string `name` and the methods `use` calls (`decodeEvent` and `decodeBatch` to read,
 * `encodeEvent` and `encodeBatch` as well to write). It reads those properties and calls none of them, and never
 * throws: a codec whose properties throw when read is a problem like any other.
 */
export function payloadCodecProblem(value: unknown, use: PayloadCodecUse = "readWrite"): string | undefined {
  if (typeof value !== "object" || value === null)
    return `is ${value === null ? "null" : typeof value}, not a codec object`;
  const codec = value as Partial<Record<keyof PayloadCodec<unknown>, unknown>>;
  // A getter or a proxy trap that throws (a revoked proxy: any read) is a problem too: this must not throw.
  try {
    if (typeof codec.name !== "string") return "has no string 'name'";
    for (const method of methodsFor(use)) {
      if (typeof codec[method] !== "function") return `has no '${method}' function`;
    }
  } catch (error) {
    return `threw when read: ${shownError(error)}`;
  }
  return undefined;
}

/**
 * Assert that `codec` is a codec `use` can work with (see {@link payloadCodecProblem}).
 * @throws {@link WalError} `WAL_INVALID_OPTION` otherwise: `codec must implement PayloadCodec (name, <methods>)`,
 *   then what is missing.
 */
export function checkPayloadCodec(
  codec: unknown,
  use: PayloadCodecUse = "readWrite",
): asserts codec is PayloadCodec<unknown> {
  const problem = payloadCodecProblem(codec, use);
  if (problem !== undefined) {
    throw new WalError(
      "WAL_INVALID_OPTION",
      `codec must implement PayloadCodec (name, ${methodsFor(use).join(", ")}): it ${problem}`,
    );
  }
}

function methodsFor(use: PayloadCodecUse): readonly (keyof PayloadCodec<unknown>)[] {
  return use === "read" ? READ_METHODS : READ_WRITE_METHODS;
}
