/**
 * `memoryArchive`: an in-memory archive store for tests, with fault injection (the next N calls of an operation
 * fail, the whole store goes down, a call hangs until its signal aborts), call counters and an observation hook,
 * and helpers that damage or remove stored objects behind the store's back (for restore tests).
 */

import { checkOptionNames, crc32, optionNames, optionOr, shownValue, WalError } from "@lora/wal-codec";
import { assertStoreKey, assertStorePrefix } from "./archive-keys.js";
import {
  type ArchiveCallOptions,
  type ArchiveObjectInfo,
  type ArchivePutOptions,
  type ArchiveStore,
  abortReasonOr,
  checkCallOptions,
  startCall,
} from "./archive-store.js";
import { sameBytes } from "./same-bytes.js";
import { storeIoError } from "./store-io-error.js";

/** The operations of an {@link ArchiveStore}. */
export type ArchiveOp = "put" | "get" | "list" | "delete";

/** A call whose arguments passed their checks: `verify` checks the data (a put's crc32), `run` does the call. */
interface Operation<T> {
  readonly verify?: () => void;
  readonly run: () => T;
}

/**
 * How an injected fault fails a call:
 * - `unavailable`: the service refuses the call (cause `ECONNREFUSED`);
 * - `reset`: the connection drops mid-call (cause `ECONNRESET`);
 * - `timeout`: the call hangs until its `signal` aborts (it then rejects with the signal's reason, as every store
 *   call does) or, without a signal, until the fault's `timeoutMs` has passed (then `WAL_IO`, cause `ETIMEDOUT`).
 */
export type MemoryFaultKind = "unavailable" | "reset" | "timeout";

/** A fault to inject with {@link MemoryArchive.injectFault}. */
export interface MemoryFaultSpec {
  /** Which operation fails; `"*"` for any. */
  readonly op: ArchiveOp | "*";
  /** How many matching calls fail (the ones after pass). `Infinity` keeps failing until cleared. @default 1 */
  readonly times?: number;
  /** How the calls fail. @default "unavailable" */
  readonly error?: MemoryFaultKind;
  /** Only calls whose key (or `list` prefix) starts with this match. @default every call of `op` */
  readonly key?: string;
  /**
   * For `put`: store the object before failing, so the caller cannot tell whether it landed (a response lost
   * after the upload). @default false
   */
  readonly applied?: boolean;
  /** For `timeout` without a signal: how long the call hangs before it rejects. @default 1000 */
  readonly timeoutMs?: number;
}

/** A live view of an injected fault. */
export interface MemoryFaultHandle {
  /** Calls this fault has failed so far. */
  readonly hits: number;
  /** Calls it will still fail. */
  readonly remaining: number;
  /** Stop injecting it (calls already hanging keep hanging until their signal or timeout). */
  cancel(): void;
}

/** One finished call, as {@link MemoryArchive.onCall} reports it. */
export interface MemoryArchiveCall {
  readonly op: ArchiveOp;
  /** The key (the prefix for `list`). */
  readonly key: string;
  /** `ok`, `fault` (an injected fault or the store being down) or `error` (a refusal: bad key, immutability, ...). */
  readonly outcome: "ok" | "fault" | "error";
  /** What the call rejected with, when it did. */
  readonly error?: unknown;
}

/** Options of {@link memoryArchive}. */
export interface MemoryArchiveOptions {
  /** Faults injected from the start (the same as calling {@link MemoryArchive.injectFault} for each). */
  readonly faults?: readonly MemoryFaultSpec[];
  /** The store's {@link ArchiveStore.name}. @default "memory" */
  readonly name?: string;
}

/** Every option `memoryArchive` reads; any other name is refused (`WAL_INVALID_OPTION`). */
const MEMORY_ARCHIVE_OPTION_NAMES = optionNames<MemoryArchiveOptions>()("faults", "name");

/** An in-memory {@link ArchiveStore} with fault injection and test helpers. */
export interface MemoryArchive extends ArchiveStore {
  /**
   * Make the next `times` matching calls fail (after argument checks: an invalid key is still refused as such).
   * Faults are consulted in injection order; the first one that matches and has calls left takes the call.
   * @throws {@link @lora/wal-codec!WalError} `WAL_INVALID_ARGUMENT` for a malformed spec.
   */
  injectFault(spec: MemoryFaultSpec): MemoryFaultHandle;
  /** Remove every injected fault. */
  clearFaults(): void;
  /** While down, every call rejects with `WAL_IO` (cause `ECONNREFUSED`) and changes nothing. */
  setDown(down: boolean): void;
  readonly down: boolean;
  /** Calls started per operation (failed ones included). Live object. */
  readonly calls: Readonly<Record<ArchiveOp, number>>;
  /** Call `listener` as each call settles. Returns an unsubscribe function. */
  onCall(listener: (call: MemoryArchiveCall) => void): () => void;
  /**
   * Damage a stored object behind the store's back: flip every bit of the byte at `at` (default: the middle byte),
   * or cut it to `truncateTo` bytes. Its key (and so its recorded size and CRC) stays the same.
   * @throws {@link @lora/wal-codec!WalError} `WAL_INVALID_ARGUMENT` when there is no such object or nothing to damage.
   */
  corrupt(key: string, how?: { readonly at?: number } | { readonly truncateTo: number }): void;
  /** Drop an object behind the store's back (no call counted). Returns whether it existed. */
  remove(key: string): boolean;
  /** Every stored key, sorted. */
  keys(): string[];
  /** A copy of an object's bytes without a call being counted; `null` when absent. */
  peek(key: string): Uint8Array | null;
}

const FAULT_CAUSES: Readonly<Record<MemoryFaultKind, { readonly code: string; readonly text: string }>> = {
  unavailable: { code: "ECONNREFUSED", text: "the service is unavailable" },
  reset: { code: "ECONNRESET", text: "the connection was reset" },
  timeout: { code: "ETIMEDOUT", text: "the call timed out" },
};

interface ActiveFault {
  readonly spec: MemoryFaultSpec;
  readonly kind: MemoryFaultKind;
  remaining: number;
  hits: number;
}

/**
 * An in-memory store: objects are copied in on `put` and out on `get`, so callers cannot change them. It gives
 * every {@link ArchiveStore} guarantee (it passes the conformance suite), refuses other bytes under an existing key
 * and a `signal` that is not an `AbortSignal` (`WAL_INVALID_ARGUMENT`), options that are not an object or name an
 * option the call does not read (`WAL_INVALID_OPTION`), and bytes that do not match the `crc32` option
 * (`WAL_ARCHIVE_CORRUPT`). Every call settles asynchronously, so concurrent calls interleave.
 *
 * @example
 * ```ts
 * const store = memoryArchive();
 * store.injectFault({ op: "put", times: 3, error: "reset" }); // the next three puts fail with WAL_IO
 * ```
 */
export function memoryArchive(options: MemoryArchiveOptions = {}): MemoryArchive {
  const read = checkOptionNames(options, MEMORY_ARCHIVE_OPTION_NAMES, "memoryArchive");
  const name: unknown = optionOr<unknown>(read.name, "memory");
  if (typeof name !== "string" || name === "") {
    throw new WalError("WAL_INVALID_OPTION", `memoryArchive: name must be a non-empty string, got ${shownValue(name)}`);
  }
  const faults: unknown = optionOr<unknown>(read.faults, []);
  if (!Array.isArray(faults)) {
    throw new WalError("WAL_INVALID_OPTION", `memoryArchive: faults must be an array, got ${shownValue(faults)}`);
  }
  const store = new MemoryStore(name);
  for (const spec of faults as MemoryFaultSpec[]) store.injectFault(spec);
  return store;
}

class MemoryStore implements MemoryArchive {
  readonly name: string;
  readonly calls: Record<ArchiveOp, number> = { put: 0, get: 0, list: 0, delete: 0 };
  readonly #objects = new Map<string, Uint8Array>();
  #faults: ActiveFault[] = [];
  readonly #listeners = new Set<(call: MemoryArchiveCall) => void>();
  #down = false;

  constructor(name: string) {
    this.name = name;
  }

  get down(): boolean {
    return this.#down;
  }

  put(key: string, bytes: Uint8Array, options: ArchivePutOptions = {}): Promise<void> {
    return this.#call("put", key, options, (read) => {
      if (!(bytes instanceof Uint8Array)) {
        throw new WalError("WAL_INVALID_ARGUMENT", `put ${key}: bytes must be a Uint8Array`, {
          details: { object: key },
        });
      }
      const expected = read.crc32;
      if (expected !== undefined && (!Number.isInteger(expected) || expected < 0 || expected > 0xffff_ffff)) {
        throw new WalError("WAL_INVALID_ARGUMENT", `put ${key}: crc32 must be an unsigned 32-bit integer`, {
          details: { object: key },
        });
      }
      const verify = () => {
        if (expected !== undefined && crc32(bytes) >>> 0 !== expected) {
          throw new WalError(
            "WAL_ARCHIVE_CORRUPT",
            `${this.name}: put ${key} refused: the bytes fail the crc32 given`,
            {
              details: { object: key },
            },
          );
        }
      };
      const run = () => {
        const existing = this.#objects.get(key);
        if (existing === undefined) {
          this.#objects.set(key, bytes.slice());
          return;
        }
        if (!sameBytes(existing, bytes)) {
          throw new WalError(
            "WAL_INVALID_ARGUMENT",
            `${this.name}: ${key} exists with other bytes; archived objects are immutable`,
            { details: { object: key } },
          );
        }
      };
      return { verify, run };
    });
  }

  get(key: string, options: ArchiveCallOptions = {}): Promise<Uint8Array | null> {
    return this.#call("get", key, options, () => ({ run: () => this.peek(key) }));
  }

  list(prefix = "", options: ArchiveCallOptions = {}): Promise<ArchiveObjectInfo[]> {
    return this.#call("list", prefix, options, () => ({
      run: () =>
        this.keys()
          .filter((key) => key.startsWith(prefix))
          .map((key) => ({ key, size: (this.#objects.get(key) as Uint8Array).byteLength })),
    }));
  }

  delete(key: string, options: ArchiveCallOptions = {}): Promise<void> {
    return this.#call("delete", key, options, () => ({
      run: () => {
        this.#objects.delete(key);
      },
    }));
  }

  injectFault(spec: MemoryFaultSpec): MemoryFaultHandle {
    const ops: readonly string[] = ["put", "get", "list", "delete", "*"];
    const kinds: readonly string[] = ["unavailable", "reset", "timeout"];
    const times = spec.times ?? 1;
    const timeoutMs = spec.timeoutMs ?? 1000;
    if (
      typeof spec !== "object" ||
      spec === null ||
      !ops.includes(spec.op) ||
      !(times === Number.POSITIVE_INFINITY || (Number.isSafeInteger(times) && times > 0)) ||
      (spec.error !== undefined && !kinds.includes(spec.error)) ||
      (spec.key !== undefined && typeof spec.key !== "string") ||
      !(Number.isFinite(timeoutMs) && timeoutMs >= 0)
    ) {
      throw new WalError("WAL_INVALID_ARGUMENT", `invalid fault spec: ${shownValue(spec)}`);
    }
    const fault: ActiveFault = { spec, kind: spec.error ?? "unavailable", remaining: times, hits: 0 };
    this.#faults.push(fault);
    return {
      get hits() {
        return fault.hits;
      },
      get remaining() {
        return fault.remaining;
      },
      cancel: () => {
        fault.remaining = 0;
        this.#faults = this.#faults.filter((f) => f !== fault);
      },
    };
  }

  clearFaults(): void {
    for (const fault of this.#faults) fault.remaining = 0;
    this.#faults = [];
  }

  setDown(down: boolean): void {
    this.#down = down;
  }

  onCall(listener: (call: MemoryArchiveCall) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  corrupt(key: string, how: { readonly at?: number } | { readonly truncateTo: number } = {}): void {
    const bytes = this.#objects.get(key);
    if (bytes === undefined) throw new WalError("WAL_INVALID_ARGUMENT", `corrupt: no object ${key}`);
    if ("truncateTo" in how) {
      const to = how.truncateTo;
      if (!Number.isSafeInteger(to) || to < 0 || to >= bytes.byteLength) {
        throw new WalError("WAL_INVALID_ARGUMENT", `corrupt: cannot cut ${key} (${bytes.byteLength} bytes) to ${to}`);
      }
      this.#objects.set(key, bytes.slice(0, to));
      return;
    }
    const at = how.at ?? Math.floor(bytes.byteLength / 2);
    if (!Number.isSafeInteger(at) || at < 0 || at >= bytes.byteLength) {
      throw new WalError("WAL_INVALID_ARGUMENT", `corrupt: no byte ${at} in ${key} (${bytes.byteLength} bytes)`);
    }
    bytes[at] = (bytes[at] as number) ^ 0xff;
  }

  remove(key: string): boolean {
    return this.#objects.delete(key);
  }

  keys(): string[] {
    return [...this.#objects.keys()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  }

  peek(key: string): Uint8Array | null {
    return this.#objects.get(key)?.slice() ?? null;
  }

  /**
   * Run one call. Refusals come in the order every store gives them: the key (or the prefix of a list), the
   * options, the call's other arguments (`check`, which returns the operation), the signal (not an `AbortSignal`,
   * or aborted already), then `verify` (a put's bytes against its crc32); only then does the store's state (down,
   * faults) decide whether the operation runs. Settles after at least one turn of the event loop.
   */
  async #call<T>(
    op: ArchiveOp,
    key: string,
    given: ArchivePutOptions,
    check: (options: ArchivePutOptions) => Operation<T>,
  ): Promise<T> {
    this.calls[op]++;
    let faulted = false;
    /** Set once the arguments passed: an abort wins from then on. */
    let started = false;
    let signal: AbortSignal | undefined;
    try {
      if (op === "list") assertStorePrefix(key);
      else assertStoreKey(key);
      // Each option read once: the call and `check` use what was read.
      const options = checkCallOptions(given, op, `${op} ${key}`);
      const { verify, run } = check(options);
      signal = options.signal;
      startCall(signal, `${op} ${key}`, key);
      started = true;
      verify?.();
      await new Promise<void>((resolve) => setImmediate(resolve));
      signal?.throwIfAborted();
      if (this.#down) {
        faulted = true;
        throw faultError(this.name, op, key, "unavailable", "the store is down");
      }
      const fault = this.#takeFault(op, key);
      if (fault !== undefined) {
        faulted = true;
        if (fault.spec.applied === true && op === "put") run();
        if (fault.kind === "timeout") await hang(signal, fault.spec.timeoutMs ?? 1000);
        throw faultError(this.name, op, key, fault.kind, "injected");
      }
      const result = run();
      this.#emit({ op, key, outcome: "ok" });
      return result;
    } catch (caught) {
      // Once the call has started, an abort wins over whatever failed in it, as in every store of the package.
      const error = started ? abortReasonOr(signal, caught) : caught;
      this.#emit({
        op,
        key: typeof key === "string" ? key : shownValue(key),
        outcome: faulted ? "fault" : "error",
        error,
      });
      throw error;
    }
  }

  #takeFault(op: ArchiveOp, key: string): ActiveFault | undefined {
    for (const fault of this.#faults) {
      if (fault.remaining <= 0) continue;
      if (fault.spec.op !== "*" && fault.spec.op !== op) continue;
      if (fault.spec.key !== undefined && !key.startsWith(fault.spec.key)) continue;
      fault.remaining--;
      fault.hits++;
      if (fault.remaining <= 0) this.#faults = this.#faults.filter((f) => f !== fault);
      return fault;
    }
    return undefined;
  }

  #emit(call: MemoryArchiveCall): void {
    for (const listener of this.#listeners) listener(call);
  }
}

function faultError(name: string, op: ArchiveOp, key: string, kind: MemoryFaultKind, how: string): WalError {
  const { code, text } = FAULT_CAUSES[kind];
  const cause = Object.assign(new Error(`${code}: ${text} (${how} ${kind} fault)`), { code, fault: kind });
  return storeIoError(name, op, key, cause, text);
}

/** Wait until `signal` aborts (then reject with its reason) or `ms` pass (then resolve). */
function hang(signal: AbortSignal | undefined, ms: number): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}
