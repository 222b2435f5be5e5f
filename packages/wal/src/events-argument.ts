/** The check of the list of events passed to `commitTx` or `appendBatch`. */

import { types } from "node:util";
import { isWalError, MAX_RECORD_BYTES, shownError, WalError } from "@lora/wal-codec";

/**
 * The events `call` (`"commitTx"`, `"appendBatch"`) is to write, read once: `events` itself when it is an array
 * (its `length` is then a data property, and the codec reads each element once, as it encodes), else a copy when it
 * is a proxy of an array (its `length` and elements read once here: a proxy's traps may answer differently, or
 * throw, the next time). The caller uses what this returns, never `events` again.
 *
 * Nothing is allocated when `events` is an array: this runs on every commit.
 * @throws {@link WalError} `WAL_INVALID_ARGUMENT` unless `events` is an array, and for one that throws when looked
 *   at (a revoked proxy: `Array.isArray` throws a `TypeError`; a proxy whose `length` throws or is not an array
 *   length), which would otherwise escape as its own error from the middle of the call; `WAL_RECORD_TOO_LARGE` for
 *   more events than {@link MAX_RECORD_BYTES} (see `checkEventCount`), before any is read; `WAL_ENCODE` for an element
 *   that throws when read, as when the codec reads it.
 */
export function eventsArgument<E>(call: string, events: readonly E[]): readonly E[] {
  let isArray: boolean;
  try {
    isArray = Array.isArray(events);
  } catch (error) {
    throw readFailed(call, "its events", error);
  }
  if (!isArray) throw new WalError("WAL_INVALID_ARGUMENT", `${call} takes an array of events, got ${typeof events}`);
  if (types.isProxy(events)) return copyOfEvents(call, events);
  checkEventCount(call, events.length);
  return events;
}

/**
 * Refuse more events than one record can hold before any is read: a record is at most {@link MAX_RECORD_BYTES} bytes
 * and each event of a batch takes at least one of them (in every built-in codec; a codec's `encodeBatch` must too).
 * A sparse array, or a proxy claiming a length up to 2^32 - 1, would otherwise have its holes read (and copied) one
 * by one for minutes before the record was found too large.
 * @throws {@link WalError} `WAL_RECORD_TOO_LARGE`.
 */
function checkEventCount(call: string, count: number): void {
  if (count <= MAX_RECORD_BYTES) return;
  throw new WalError(
    "WAL_RECORD_TOO_LARGE",
    `${call}: ${count} events cannot fit one record (at most ${MAX_RECORD_BYTES} bytes, at least one per event)`,
  );
}

/**
 * The events of the array `events` copied into a plain array, its `length` and each element read once: for a proxy,
 * and for a path that reads them more than once (a commit encoded on the side before it waits, then into the
 * segment), where a getter could answer differently each time.
 * @throws {@link WalError} as {@link eventsArgument}.
 */
export function copyOfEvents<E>(call: string, events: readonly E[]): E[] {
  let length: unknown;
  try {
    length = events.length;
  } catch (error) {
    throw readFailed(call, "its events' length", error);
  }
  if (typeof length !== "number" || !Number.isSafeInteger(length) || length < 0 || length > 2 ** 32 - 1) {
    throw new WalError("WAL_INVALID_ARGUMENT", `${call}: its events' length is not an array length`);
  }
  checkEventCount(call, length);
  const copy: E[] = [];
  let i = 0;
  try {
    for (; i < length; i++) copy.push(events[i] as E);
  } catch (error) {
    if (isWalError(error)) throw error;
    // The code the codec's own read of it gives (the fast path's): the same event is refused the same way.
    throw new WalError("WAL_ENCODE", `record could not be encoded: reading event ${i} threw: ${shownError(error)}`, {
      cause: error,
    });
  }
  return copy;
}

function readFailed(call: string, what: string, error: unknown): WalError {
  if (isWalError(error)) return error;
  return new WalError("WAL_INVALID_ARGUMENT", `${call}: reading ${what} threw: ${shownError(error)}`, {
    cause: error,
  });
}
