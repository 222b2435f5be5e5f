/**
 * `jsonCodec`: an event is any JSON value. A single-event payload is its UTF-8 JSON text; a batch is the UTF-8
 * JSON text of the array of events. Handy for prototypes and logs read by people; not compact.
 */

import type { ByteWriter } from "./byte-writer.js";
import { shownError } from "./check-options.js";
import { WalError } from "./errors.js";
import { declareFreshBatches } from "./fresh-batches.js";

/** A value `JSON.stringify` writes and `JSON.parse` gives back unchanged. */
export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

const utf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

function writeJson(
  value: unknown,
  out: ByteWriter,
  replacer?: (this: unknown, key: string, value: unknown) => unknown,
): void {
  let text: string | undefined;
  try {
    text = JSON.stringify(value, replacer);
  } catch (cause) {
    encodeFailure(cause);
  }
  if (text === undefined) throw new WalError("WAL_ENCODE", "event has no JSON form");
  out.utf8(text);
}

/**
 * A batch as `JSON.stringify` of the array, but refusing an event with no JSON form as {@link writeJson} refuses it
 * alone: inside an array `JSON.stringify` would write it as `null`, and the event would come back as `null`.
 */
function writeJsonBatch(events: readonly unknown[], out: ByteWriter): void {
  let exact: boolean;
  try {
    exact = needsExactCheck(events);
  } catch (cause) {
    encodeFailure(cause); // a toJSON getter that throws, as JSON.stringify would meet it
  }
  // An array with a `toJSON` (its own, or one a library put on `Array.prototype`) would be written as whatever that
  // returns, which the decoder then refuses as a batch: the replacer, which runs after `toJSON`, puts the array back.
  const arrayToJson = typeof (events as { toJSON?: unknown }).toJSON === "function";
  if (!exact && !arrayToJson) {
    writeJson(events, out);
    return;
  }
  writeJson(events, out, function (this: unknown, key: string, value: unknown): unknown {
    if (key === "" && arrayToJson && (this as Record<string, unknown>)[""] === events) return events;
    if (this === events && hasNoJsonForm(value)) throw new BatchEventRefused(Number(key));
    return value;
  });
}

/**
 * Refuse (throw {@link BatchEventRefused}) an event that has no JSON form whatever happens; true when an event's
 * form is known only once its `toJSON` runs (an object, function or bigint with one), which the stringify then
 * checks. `JSON.stringify` calls `toJSON` on objects (functions included) and bigints only.
 */
function needsExactCheck(events: readonly unknown[]): boolean {
  let exact = false;
  for (let i = 0; i < events.length; i++) {
    const event = events[i];
    const type = typeof event;
    if (event === undefined || type === "symbol") throw new BatchEventRefused(i);
    if (type === "object" || type === "function" || type === "bigint") {
      if (event !== null && typeof (event as { toJSON?: unknown }).toJSON === "function") exact = true;
      else if (type === "function") throw new BatchEventRefused(i);
    }
  }
  return exact;
}

/** `undefined`, a function or a symbol: what `JSON.stringify` has no text for. */
function hasNoJsonForm(value: unknown): boolean {
  return value === undefined || typeof value === "function" || typeof value === "symbol";
}

/** The batch's refusal of event `index`, thrown where `JSON.stringify` runs and turned into a `WalError` outside. */
class BatchEventRefused {
  constructor(readonly index: number) {}
}

function refuseBatchEvent(index: number): never {
  throw new WalError("WAL_ENCODE", `event ${index} of the batch has no JSON form`);
}

/**
 * What encoding threw, as the codec reports it. Only the batch's own refusal becomes its message: anything a
 * `toJSON` or a getter throws (a `WalError` of the caller's included) is the event's failure to serialise, never an
 * error of the log's. Its text is in the message too: the caller of `commitTx` who logs only `message` should
 * still read what was wrong ("Do not know how to serialize a BigInt"), not only that something was.
 */
function encodeFailure(cause: unknown): never {
  if (cause instanceof BatchEventRefused) refuseBatchEvent(cause.index);
  throw new WalError("WAL_ENCODE", `event is not serialisable as JSON: ${shownError(cause)}`, { cause });
}

function readJson(payload: Uint8Array): unknown {
  try {
    return JSON.parse(utf8.decode(payload));
  } catch (cause) {
    throw new WalError("WAL_DECODE", "payload is not UTF-8 JSON", { cause });
  }
}

/**
 * Events are JSON values, stored as UTF-8 JSON text (a batch as one JSON array). It is a `PayloadCodec` of any
 * event type (`Wal.open<Job>(dir, { codec: jsonCodec })` needs no cast); without a type argument the events are
 * {@link JsonValue}s. Each method is generic (a `PayloadCodec<Job>` is wanted there) and also has a `JsonValue`
 * overload, listed last, from which a call without a type argument (`replayDir(dir, { codec: jsonCodec })`) infers
 * its event type, as it did when this was a `PayloadCodec<JsonValue>`. The type parameter is a promise the caller
 * makes, not something the codec checks: decoding gives back what `JSON.parse` gives, so the event type must be one
 * that survives a JSON round trip.
 *
 * Encoding is `JSON.stringify` and decoding `JSON.parse`, so an event comes back as its JSON form, not always as it
 * went in. What comes back equal (same type, same value) is exactly a {@link JsonValue} built of: `null`, booleans,
 * strings (any UTF-16, lone surrogates included: they are written escaped), finite numbers other than `-0` (each
 * double exactly, integers above 2^53 included), dense arrays of these, and plain objects whose own enumerable string
 * keys hold these. Everything else is accepted without a word (the codec adds no check of its own: its bytes and
 * its cost are `JSON.stringify`'s) and comes back as `JSON.stringify` writes it, changed:
 * - `NaN`, `Infinity` and `-Infinity` come back as `null`;
 * - `-0` comes back as `0`;
 * - `undefined` (and functions and symbols) in an object drop the key; in an array inside an event they come back
 *   as `null`, as does an array's hole; an event that is itself `undefined` (or a function or symbol, or has a
 *   `toJSON` giving one of them) has no JSON form and is refused (`WAL_ENCODE`), alone or in a batch;
 * - a typed array comes back as a plain object of its indices (`new Uint8Array([1, 2])` as `{ "0": 1, "1": 2 }`,
 *   a `Float64Array`'s `NaN` as `null` there), a `Buffer` as `{ type: "Buffer", data: [...] }` (its `toJSON`), an
 *   `ArrayBuffer` or a `DataView` as `{}`: use `bytesCodec` or `loraCodec` for bytes;
 * - a `Date` comes back as its ISO 8601 string (any `toJSON` method is applied);
 * - a boxed `Number`, `String` or `Boolean` comes back as the primitive;
 * - a `BigInt` anywhere in the event is refused (`WAL_ENCODE`, with the `TypeError` as `cause` and its message in
 *   the refusal's), as is a cycle;
 * - a `Map` or a `Set` comes back as `{}` (its entries are lost), as does any object with no enumerable own
 *   properties (an `Error`, a `RegExp`); class instances come back as plain objects of their own enumerable
 *   properties (getters read once, at encoding), without their prototype, symbol keys or non-enumerable properties.
 *
 * @throws {@link WalError} `WAL_ENCODE` for a value `JSON.stringify` rejects or has no JSON form for; `WAL_DECODE`
 *   for invalid UTF-8 or JSON, or a batch that is not an array.
 */
export const jsonCodec: {
  readonly name: "json";
  encodeEvent<E = JsonValue>(event: E, out: ByteWriter): void;
  encodeEvent(event: JsonValue, out: ByteWriter): void;
  encodeBatch<E = JsonValue>(events: readonly E[], out: ByteWriter): void;
  encodeBatch(events: readonly JsonValue[], out: ByteWriter): void;
  decodeEvent<E = JsonValue>(payload: Uint8Array): E;
  decodeEvent(payload: Uint8Array): JsonValue;
  decodeBatch<E = JsonValue>(payload: Uint8Array): E[];
  decodeBatch(payload: Uint8Array): JsonValue[];
} = {
  name: "json",
  encodeEvent<E>(event: E, out: ByteWriter): void {
    writeJson(event, out);
  },
  encodeBatch<E>(events: readonly E[], out: ByteWriter): void {
    writeJsonBatch(events, out);
  },
  // The caller's promise (see above): the cast is where that promise is taken.
  decodeEvent<E>(payload: Uint8Array): E {
    return readJson(payload) as E;
  },
  decodeBatch<E>(payload: Uint8Array): E[] {
    const value = readJson(payload);
    if (!Array.isArray(value)) throw new WalError("WAL_DECODE", "JSON batch payload is not an array");
    return value as E[];
  },
};
declareFreshBatches(jsonCodec);
