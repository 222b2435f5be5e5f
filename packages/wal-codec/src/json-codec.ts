/**
 * `jsonCodec`: an event is any JSON value. A single-event payload is its UTF-8 JSON text; a batch is the UTF-8
 * JSON text of the array of events. Handy for prototypes and logs read by people; not compact.
 */

import type { ByteWriter } from "./byte-writer.js";
import { WalError } from "./errors.js";
import type { PayloadCodec } from "./payload-codec.js";

/** A value `JSON.stringify` writes and `JSON.parse` gives back unchanged. */
export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

const utf8 = new TextDecoder("utf-8", { fatal: true });

function writeJson(value: unknown, out: ByteWriter): void {
  let text: string | undefined;
  try {
    text = JSON.stringify(value);
  } catch (cause) {
    throw new WalError("WAL_ENCODE", "event is not serialisable as JSON", { cause });
  }
  if (text === undefined) throw new WalError("WAL_ENCODE", "event has no JSON form");
  out.utf8(text);
}

function readJson(payload: Uint8Array): unknown {
  try {
    return JSON.parse(utf8.decode(payload));
  } catch (cause) {
    throw new WalError("WAL_DECODE", "payload is not UTF-8 JSON", { cause });
  }
}

/**
 * Events are JSON values, stored as UTF-8 JSON text (a batch as one JSON array).
 * @throws {@link WalError} `WAL_ENCODE` for a value `JSON.stringify` rejects; `WAL_DECODE` for invalid UTF-8 or
 *   JSON, or a batch that is not an array.
 */
export const jsonCodec: PayloadCodec<JsonValue> = {
  name: "json",
  encodeEvent(event: JsonValue, out: ByteWriter): void {
    writeJson(event, out);
  },
  encodeBatch(events: readonly JsonValue[], out: ByteWriter): void {
    writeJson(events, out);
  },
  decodeEvent(payload: Uint8Array): JsonValue {
    return readJson(payload) as JsonValue;
  },
  decodeBatch(payload: Uint8Array): JsonValue[] {
    const value = readJson(payload);
    if (!Array.isArray(value)) throw new WalError("WAL_DECODE", "JSON batch payload is not an array");
    return value as JsonValue[];
  },
};
