/**
 * The seam between the record framing and what a mutation record carries. The framing never looks inside a
 * payload; a codec turns one event (kind 1 records) or a batch of events (kind 6 records) into bytes and back.
 */

import type { ByteWriter } from "./byte-writer.js";

/**
 * Turns events of type `E` into mutation payload bytes and back. Built in: `bytesCodec`, `jsonCodec`, `loraCodec`.
 * Implementations throw `WalError` `WAL_ENCODE` for an event they cannot write and `WAL_DECODE` for a payload they
 * cannot read (replay reports the latter as corruption, never as a torn tail).
 *
 * Decoded events must not alias the `payload` they came from: it is a view of a read buffer that replay reuses for
 * the next bytes of the segment and for the next segments, so an event that keeps a view (`payload.subarray(…)`)
 * would change under the caller. Copy the bytes an event keeps.
 */
export interface PayloadCodec<E> {
  /** A short name for diagnostics (`"lora"`, `"json"`, `"bytes"`). */
  readonly name: string;
  /**
   * Append the payload of a single-event mutation record to `out`.
   * @throws {@link WalError} `WAL_ENCODE` when the event cannot be represented.
   */
  encodeEvent(event: E, out: ByteWriter): void;
  /**
   * Append the payload of a batch record to `out`. The framing guarantees `events` is not empty. Each event must take
   * at least one byte: the handle refuses a batch of more events than a record has bytes
   * (`MAX_RECORD_BYTES`, `WAL_RECORD_TOO_LARGE`) before reading them.
   * @throws {@link WalError} `WAL_ENCODE` when an event cannot be represented.
   */
  encodeBatch(events: readonly E[], out: ByteWriter): void;
  /**
   * Decode a single-event payload. Must consume every byte.
   * @throws {@link WalError} `WAL_DECODE` on bytes it does not understand; never any other exception.
   */
  decodeEvent(payload: Uint8Array): E;
  /**
   * Decode a batch payload. Must consume every byte.
   * @throws {@link WalError} `WAL_DECODE` on bytes it does not understand; never any other exception.
   */
  decodeBatch(payload: Uint8Array): E[];
}
