/** Abort reasons of every kind, and the rejection a call gave: shared by the tests of how store calls abort. */

import { WalError } from "@lora/wal-codec";

/** Each kind of abort reason, made fresh per use so a test can tell it apart by identity. */
export const ABORT_REASONS: readonly (readonly [string, () => unknown])[] = [
  ["a WalError WAL_IO", () => new WalError("WAL_IO", "the caller's own I/O failure")],
  ["a WalError WAL_CLOSED", () => new WalError("WAL_CLOSED", "the caller is closing")],
  ["a DOMException AbortError", () => new DOMException("stopped", "AbortError")],
  ["a DOMException TimeoutError", () => new DOMException("took too long", "TimeoutError")],
  ["a string", () => "shutting down"],
  ["a number", () => 42],
  ["null", () => null],
  ["a plain object", () => ({ why: "stop" })],
];

/** What `p` rejected with; fails the test if it resolved. */
export async function rejectionOf(p: Promise<unknown>): Promise<unknown> {
  return p.then(
    (value) => {
      throw new Error(`expected a rejection, the call resolved with ${String(value)}`);
    },
    (e: unknown) => e,
  );
}
