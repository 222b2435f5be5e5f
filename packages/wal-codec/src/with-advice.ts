/** What the caller can do about an error, added to a `WalError` a layer passes on. */

import { WalError } from "./errors.js";

/** How {@link withAdvice} joins the advice to the message. */
export interface AdviceOptions {
  /**
   * `"clause"` appends `; <advice>` (what to run or to open with next); `"aside"` appends ` (<advice>)` (a note on
   * what the message says). @default "clause"
   */
  readonly as?: "clause" | "aside";
}

/**
 * The advice, joined as it was (`; <advice>` or ` (<advice>)`), that {@link withAdvice} appended to make an error, in
 * order: kept beside the error so that it is not changed.
 */
const appended = new WeakMap<WalError, readonly string[]>();

/**
 * `error` with `advice` (what the caller can do about it) appended to its message: `<message>; <advice>`, or
 * `<message> (<advice>)` as an aside. The one way the packages add advice to a {@link WalError}; what it guarantees:
 *
 * - The `code`, the `details` object and the `cause` are the error's own, unchanged (the cause is not the error
 *   given but its cause), so whoever branches on them sees the same error; only the message grows.
 * - The stack is the error's own frames (where the problem was found, not where the advice was added) under the new
 *   message.
 * - Advice is appended once: when `withAdvice` appended it, joined the same way, to make `error` (the same advice
 *   applied again, by the same layer or another, before or after other advice), or when no advice was appended to
 *   make `error` and its own message ends with it, joined the same way, `error` itself is returned; so is it for
 *   empty or whitespace-only advice. Only that exact advice counts, compared whole with each piece appended: advice
 *   that is part of longer advice (its start or its end), or of the message's own text, is still appended. `error`
 *   is never changed.
 *
 * Messages may change in any release: code, details and cause are the contract.
 */
export function withAdvice(error: WalError, advice: string, options: AdviceOptions = {}): WalError {
  const added = options.as === "aside" ? ` (${advice})` : `; ${advice}`;
  const before = appended.get(error) ?? [];
  // Whole pieces only: once advice was appended, the message ends with that piece, and a shorter advice it ends with
  // (the "b" of "a; b") was never appended.
  const ownEnding = before.length === 0 && error.message.endsWith(added);
  if (advice.trim() === "" || ownEnding || before.includes(added)) return error;
  const message = `${error.message}${added}`;
  const advised = new WalError(error.code, message, {
    ...(error.cause === undefined ? {} : { cause: error.cause }),
    details: error.details,
  });
  appended.set(advised, [...before, added]);
  const head = `${error.name}: ${error.message}`;
  if (typeof error.stack === "string" && error.stack.startsWith(head)) {
    advised.stack = `${error.name}: ${message}${error.stack.slice(head.length)}`;
  }
  return advised;
}
