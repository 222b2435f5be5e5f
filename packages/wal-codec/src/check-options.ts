/**
 * Checks of the arguments every layer's entry points share, so that each refuses the same mistake with the same
 * code and message: a path that is not one, an options argument that is not an object, a `signal` that is not an
 * `AbortSignal`.
 */

import { isWalError, WalError, type WalErrorDetails } from "./errors.js";

/**
 * The longest delay Node's timers keep, 2^31 - 1 ms (about 24.8 days): a longer one, a fraction above it included,
 * fires after 1 ms. Every option that becomes a timer's delay is checked against it.
 */
export const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * A value as an error message shows it, for any value: a refusal must never fail itself. `String(value)` throws a
 * `TypeError` for an object with no primitive form (a null-prototype object, a `toString` that throws) and
 * `JSON.stringify` for a bigint or a cycle, which would replace the coded refusal with an uncoded error.
 */
export function shownValue(value: unknown): string {
  switch (typeof value) {
    case "string":
      return JSON.stringify(value.length > 80 ? `${value.slice(0, 80)}...` : value);
    case "object":
      return value === null ? "null" : shownObject(value);
    case "function":
      return "a function";
    case "symbol":
      return "a symbol";
    default:
      return String(value);
  }
}

/**
 * A thrown value as an error message shows it, for any value: its `message` when that is a string (an `Error`'s),
 * else {@link shownValue}. For messages about what a caller's code threw (a codec, a listener, an archive store):
 * such code may throw anything, and `String(error)` throws a `TypeError` for a null-prototype object or a `toString`
 * that throws, which would replace the coded error with an uncoded one. Never throws.
 */
export function shownError(error: unknown): string {
  if ((typeof error === "object" && error !== null) || typeof error === "function") {
    try {
      const message: unknown = (error as { message?: unknown }).message;
      if (typeof message === "string") return message;
    } catch {
      // a getter or a proxy trap that throws: described as a value instead
    }
  }
  return shownValue(error);
}

/**
 * A plain object or array as JSON when it has a short JSON form (so `{"mode":"grop"}` reads as itself), else its
 * kind: a boxed number or a Date would read as a valid value, and a Map or a class instance as `{}`.
 */
function shownObject(value: object): string {
  // Every step can throw for a proxy (a revoked one, or a trap that throws), and this must not.
  try {
    const proto: unknown = Object.getPrototypeOf(value);
    if (proto !== Object.prototype && proto !== Array.prototype && proto !== null) return "an object";
    const isArray = Array.isArray(value);
    try {
      const json = JSON.stringify(value, shortJson());
      if (typeof json === "string" && json.length <= 80) return json;
    } catch {
      // a bigint, a cycle, a throwing toJSON or getter: described instead
    }
    return isArray ? "an array" : "an object";
  } catch {
    return "an object";
  }
}

/** The most values {@link shownObject} has `JSON.stringify` visit: each adds at least one character to its JSON. */
const MAX_SHOWN_JSON_VALUES = 80;

/**
 * A `JSON.stringify` replacer that changes nothing but throws once more values were visited than JSON of at most 80
 * characters can hold: an array (a proxy's, or a sparse one) claiming millions of elements was otherwise read to the
 * last, for a message that shows none of them.
 */
function shortJson(): (key: string, value: unknown) => unknown {
  let visited = 0;
  return (_key, value) => {
    if (++visited > MAX_SHOWN_JSON_VALUES + 1) throw new RangeError("longer than a message shows");
    return value;
  };
}

/**
 * Run `read`, a look at a value the caller passed (a property, its keys, its prototype), and refuse what it throws
 * with `code`: a getter or a proxy trap that throws, or a revoked proxy (a `TypeError` for any look), is the caller's
 * value failing, and its own error escaping would replace the entry point's coded refusal. A `WalError` the read
 * throws itself passes through.
 * @param what What was read, for the message (`"Wal.open: reading the options"`).
 * @throws {@link WalError} `code`, with what was thrown as its `cause`.
 */
export function readCallerValue<T>(
  read: () => T,
  code: "WAL_INVALID_OPTION" | "WAL_INVALID_ARGUMENT",
  what: string,
  details: WalErrorDetails = {},
): T {
  try {
    return read();
  } catch (error) {
    if (isWalError(error)) throw error;
    throw new WalError(code, `${what} threw: ${shownError(error)}`, { cause: error, details });
  }
}

/**
 * Assert that `options` is an object (what every entry point reads its options from). `where` names the call in the
 * message, as `checkOptionNames` does for every entry point (`startArchiver: options must be an object, got null`).
 * @throws {@link WalError} `WAL_INVALID_OPTION` otherwise (reading a property of `null` would be a `TypeError`):
 *   `[<where>: ]options must be an object, got <typeof, or null>`.
 */
export function checkOptionsObject(options: unknown, where?: string): asserts options is object {
  if (typeof options !== "object" || options === null) {
    throw new WalError(
      "WAL_INVALID_OPTION",
      `${where === undefined ? "" : `${where}: `}options must be an object, got ${options === null ? "null" : typeof options}`,
    );
  }
}

/**
 * Whether `value` is an `AbortSignal`, looked at once. `instanceof` reads the prototype: a revoked proxy throws a
 * `TypeError` there and a proxy's `getPrototypeOf` trap its own error, which are the caller's value failing, not a
 * bug to escape in place of the entry point's coded refusal.
 * @param what What is looked at, for the message (`"restore: reading signal"`).
 * @throws {@link WalError} `code` when looking throws, with what was thrown as its `cause` and `details`.
 */
export function isAbortSignal(
  value: unknown,
  code: "WAL_INVALID_OPTION" | "WAL_INVALID_ARGUMENT",
  what: string,
  details: WalErrorDetails = {},
): value is AbortSignal {
  return readCallerValue(() => value instanceof AbortSignal, code, what, details);
}

/**
 * The most elements an array argument or option is copied with (2^24, 16,777,216): far more than any real list the
 * entry points take holds (record kinds, a log's segment paths, one file each, or its replication slots), and few
 * enough that copying it ends. A proxy's `length` is whatever its trap answers, and a proxy claiming billions of valid
 * elements would otherwise be read for ever; one claiming more than this is refused before any element is read.
 */
export const MAX_ARRAY_ARGUMENT_LENGTH = 2 ** 24;

/**
 * `value` copied when it is an array whose every element `accept`s: its `length` and each element read once, in
 * order, so a proxy's traps cannot answer one way to the check and another to the caller, who uses the copy. Stops at
 * the first element refused. Call it inside {@link readCallerValue}: a trap that throws escapes from here as thrown.
 * @param maxLength The most elements accepted (at most {@link MAX_ARRAY_ARGUMENT_LENGTH}, the default): a longer
 *   array is refused before any element is read.
 * @returns the copy, or `undefined` when `value` is not an array, its length is not an array length or is above
 *   `maxLength`, or an element is refused.
 */
export function copyOfArray<T>(
  value: unknown,
  accept: (element: unknown) => element is T,
  maxLength = MAX_ARRAY_ARGUMENT_LENGTH,
): T[] | undefined {
  if (!Array.isArray(value)) return undefined;
  const length: unknown = value.length;
  if (typeof length !== "number" || !Number.isSafeInteger(length) || length < 0) return undefined;
  if (length > Math.min(maxLength, MAX_ARRAY_ARGUMENT_LENGTH)) return undefined;
  const copy: T[] = [];
  for (let i = 0; i < length; i++) {
    const element: unknown = value[i];
    if (!accept(element)) return undefined;
    copy.push(element);
  }
  return copy;
}

/** How {@link checkSignal} words and codes its refusal, for the entry point that calls it. */
export interface SignalCheck {
  /** `WAL_INVALID_OPTION` (the default) for a `signal` option, `WAL_INVALID_ARGUMENT` for a store call's signal. */
  readonly code?: "WAL_INVALID_OPTION" | "WAL_INVALID_ARGUMENT";
  /** The call, starting the message (`"restore"` gives `restore: signal must be ...`); none by default. */
  readonly where?: string;
  /** The refusal's details (`{ object }`: the archive object a store call was for). */
  readonly details?: WalErrorDetails;
}

/**
 * Assert that an optional `signal` (an option, or a store call's argument) is an `AbortSignal` or absent; `check`
 * sets the code, the message's prefix and the details of the refusal.
 * @throws {@link WalError} `check.code` (`WAL_INVALID_OPTION` by default) otherwise (it would fail later with a
 *   `TypeError`): `[<where>: ]signal must be an AbortSignal, got <value>`; also for a signal that throws when its
 *   prototype is read (a revoked proxy, a throwing trap), with the throw as the `cause`.
 */
export function checkSignal(signal: unknown, check: SignalCheck = {}): asserts signal is AbortSignal | undefined {
  if (signal === undefined) return;
  const { code = "WAL_INVALID_OPTION", where, details = {} } = check;
  const prefix = where === undefined ? "" : `${where}: `;
  if (isAbortSignal(signal, code, `${prefix}reading signal`, details)) return;
  throw new WalError(code, `${prefix}signal must be an AbortSignal, got ${shownValue(signal)}`, { details });
}

/**
 * Assert that `path` (a log directory, a segment file) is a path: a non-empty string without a NUL byte. `what`
 * names it in the message.
 * @throws {@link WalError} `WAL_INVALID_ARGUMENT` otherwise (Node's own checks would throw a `TypeError` without a
 *   WAL code, and `""` would reach the file system as the empty path).
 */
export function checkPath(path: unknown, what = "the log directory"): asserts path is string {
  if (typeof path !== "string" || path === "" || path.includes("\0")) {
    const shown = typeof path === "string" ? JSON.stringify(path) : path === null ? "null" : typeof path;
    throw new WalError("WAL_INVALID_ARGUMENT", `${what} must be a non-empty string without NUL bytes, got ${shown}`);
  }
}
