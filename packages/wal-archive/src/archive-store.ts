/**
 * The seam between archiving and where the archive lives: a store of immutable objects under string keys. A
 * directory (`fsArchive`), S3 or any S3-compatible service (`s3Archive`), an in-memory store for tests
 * (`memoryArchive`, in `./testing`), or a store author's own: every one must pass the exported conformance suite.
 */

import {
  checkOptionNames,
  checkOptionsObject,
  checkSignal,
  isAbortSignal,
  optionNames,
  readCallerValue,
  WalError,
} from "@lora/wal-codec";

/** An object as {@link ArchiveStore.list} reports it. */
export interface ArchiveObjectInfo {
  /** The key, as given to `put`. */
  readonly key: string;
  /** Its size in bytes. */
  readonly size: number;
}

/** Options every store call takes. */
export interface ArchiveCallOptions {
  /**
   * Abandon the call (a time-out, a shutdown); the promise rejects with the signal's reason. Once the signal has
   * aborted, a call that has not settled rejects with the reason itself, whatever else went wrong in it: an I/O
   * failure that follows the abort, or one that came first but was not yet reported (the reason wins, in either
   * order), a `WAL_IO` reason of the caller's own passed through as it is, never wrapped. A call whose work was done
   * before it noticed the abort may still resolve. The package's stores refuse a value that is not an `AbortSignal`
   * with `WAL_INVALID_ARGUMENT`.
   */
  readonly signal?: AbortSignal;
}

/** Options of {@link ArchiveStore.put}. */
export interface ArchivePutOptions extends ArchiveCallOptions {
  /**
   * The CRC-32/IEEE of `bytes` (the log format's own checksum), computed by the caller. A store that can have its
   * service check it on upload does so (S3's `ChecksumCRC32`); every store may reject bytes that do not match.
   */
  readonly crc32?: number;
}

/**
 * A store of immutable objects. Keys are relative paths of ASCII letters, digits, `.`, `_`, `-` and `/` (no leading
 * or doubled `/`, no `.` or `..` segment), at most 512 characters; anything else is `WAL_INVALID_ARGUMENT`.
 *
 * Guarantees a store must give (checked by the conformance suite):
 * - `put` resolves only once the object is durable in the store and complete: a reader sees either nothing or all
 *   of it, never a prefix, even after a crash of the process or machine that called `put`.
 * - Objects are immutable: `put` of an existing key with the same bytes succeeds (a retry after an uncertain
 *   failure); a store may refuse other bytes under an existing key.
 * - `get` returns exactly the bytes put, or `null` when there is no such object.
 * - `list(prefix)` returns every object whose key starts with `prefix`, sorted by key, each with its size; an
 *   object whose `put` resolved is listed.
 * - `delete` removes an object; deleting an absent one is not an error.
 * - Failures reject with a `WalError` (`WAL_IO` for I/O and network failures, with the underlying error as `cause`).
 * - A call whose `signal` aborts before it settles rejects with the signal's reason, not with a failure it met
 *   before or after the abort (see {@link ArchiveCallOptions.signal}).
 * - A call with several mistakes is refused for the first of them, in one order: the key (or a list's prefix), the
 *   options (`WAL_INVALID_OPTION`), a put's bytes, its `crc32` value, the `signal`; then an already aborted signal
 *   rejects with its reason; only then are a put's bytes checked against their `crc32` (`WAL_ARCHIVE_CORRUPT`).
 */
export interface ArchiveStore {
  /** A short description for messages, e.g. `fs:/mnt/backup/wal` or `s3://bucket/prefix`. */
  readonly name: string;
  /** Store `bytes` under `key`. The caller must not change `bytes` until the promise settles. */
  put(key: string, bytes: Uint8Array, options?: ArchivePutOptions): Promise<void>;
  get(key: string, options?: ArchiveCallOptions): Promise<Uint8Array | null>;
  list(prefix?: string, options?: ArchiveCallOptions): Promise<ArchiveObjectInfo[]>;
  delete(key: string, options?: ArchiveCallOptions): Promise<void>;
}

/** Every call of a store: what the archiver makes. */
const ALL_CALLS: readonly (keyof ArchiveStore)[] = ["put", "get", "list", "delete"];

/**
 * Whether `value` is an object with the calls of an {@link ArchiveStore} that a caller uses: all four for the
 * archiver (the default), `get` and `list` for the readers (restore, verify, list), so a read-only store serves them.
 */
export function isArchiveStore(
  value: unknown,
  calls: readonly (keyof ArchiveStore)[] = ALL_CALLS,
): value is ArchiveStore {
  if (typeof value !== "object" || value === null) return false;
  const store = value as Record<string, unknown>;
  return calls.every((call) => typeof store[call] === "function");
}

/** The calls restore, verify and list make of a store. */
export const READ_CALLS: readonly (keyof ArchiveStore)[] = ["get", "list"];

/**
 * Assert that `store`, a caller's value, is an {@link ArchiveStore} with `calls` ({@link isArchiveStore}). `where`
 * names the call in the message (`restore`, `verifyArchive`).
 * @throws {@link WalError} `code` (`${where}: store must be an ArchiveStore`, naming the calls when not all four)
 *   otherwise, and for a store that throws when its calls are read (a getter, a proxy trap, a revoked proxy), with
 *   the throw as the `cause`: its own error would otherwise escape in place of the refusal.
 */
export function checkArchiveStore(
  store: unknown,
  code: "WAL_INVALID_ARGUMENT" | "WAL_INVALID_OPTION",
  where: string,
  calls: readonly (keyof ArchiveStore)[] = ALL_CALLS,
): asserts store is ArchiveStore {
  if (readCallerValue(() => isArchiveStore(store, calls), code, `${where}: reading store`)) return;
  const named = calls.length === 4 ? "" : ` (${calls.join(" and ")})`;
  throw new WalError(code, `${where}: store must be an ArchiveStore${named}`);
}

/**
 * @throws {@link WalError} `WAL_INVALID_ARGUMENT` (`${where}: signal must be an AbortSignal`, with `details.object`
 *   when `object` is given) unless `signal` is `undefined` or an `AbortSignal`; also for a signal that throws when
 *   its prototype is read (a revoked proxy, a throwing trap), with the throw as the `cause`.
 */
export function assertSignal(
  signal: unknown,
  where: string,
  object?: string,
): asserts signal is AbortSignal | undefined {
  checkSignal(signal, {
    code: "WAL_INVALID_ARGUMENT",
    where,
    ...(object === undefined ? {} : { details: { object } }),
  });
}

/**
 * {@link assertSignal} for the `signal` of a function's options (`restore`, `verifyArchive`, `listArchive`): the
 * same check and message, with the options code.
 * @throws {@link WalError} `WAL_INVALID_OPTION` unless `signal` is `undefined` or an `AbortSignal`.
 */
export function assertSignalOption(signal: unknown, where: string): asserts signal is AbortSignal | undefined {
  checkSignal(signal, { where });
}

/** Every option `get`, `list` and `delete` read; any other name is refused (`WAL_INVALID_OPTION`). */
const CALL_OPTION_NAMES = optionNames<ArchiveCallOptions>()("signal");
/** Every option `put` reads. */
const PUT_OPTION_NAMES = optionNames<ArchivePutOptions>()("signal", "crc32");

/**
 * The options of one call of the package's stores: an object naming only options the call reads. A misspelled
 * `crc32` in plain JavaScript would otherwise put the bytes unchecked, `null` failed as a `TypeError`, and an
 * `AbortSignal` passed in the options' place (it has no own keys) was ignored.
 * @returns The options, each read once (see `checkOptionNames`): the call uses these, never `options` again.
 * @throws {@link WalError} `WAL_INVALID_OPTION`, the message starting with `${where}: ` (an unknown name also sets
 *   `details.option`).
 */
export function checkCallOptions<T>(options: T, call: keyof ArchiveStore, where: string): T & object {
  checkOptionsObject(options, where);
  if (isAbortSignal(options, "WAL_INVALID_OPTION", `${where}: reading the options`)) {
    throw new WalError(
      "WAL_INVALID_OPTION",
      `${where}: options must be an object, got an AbortSignal (pass { signal })`,
    );
  }
  return checkOptionNames(options, call === "put" ? PUT_OPTION_NAMES : CALL_OPTION_NAMES, where);
}

/**
 * The start of a store call: {@link assertSignal}, then the signal's own abort reason if it is already aborted.
 * @throws {@link WalError} `WAL_INVALID_ARGUMENT` for a `signal` that is not an `AbortSignal`; the abort reason.
 */
export function startCall(signal: unknown, where: string, object?: string): asserts signal is AbortSignal | undefined {
  assertSignal(signal, where, object);
  signal?.throwIfAborted();
}

/**
 * `work`, the body of a store call once {@link startCall} passed: a failure it meets rejects as it is while the
 * signal has not aborted, and as the signal's reason once it has, whichever of the two came first (the
 * {@link ArchiveCallOptions.signal} rule every store of the package follows).
 */
export async function abortWins<T>(signal: AbortSignal | undefined, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    throw abortReasonOr(signal, error);
  }
}

/** The signal's reason once it has aborted, else `error`: what a failed store call rejects with. */
export function abortReasonOr(signal: AbortSignal | undefined, error: unknown): unknown {
  return signal?.aborted === true ? signal.reason : error;
}
