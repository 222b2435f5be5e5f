/**
 * Which lock a handle takes: the kernel `flock` on `.lora-wal.lock` plus one on the directory for the real file
 * system (LoraDB's lock, so the two exclude each other; see `dir-lock.ts`), the file system's own lock where it
 * offers one (SimFS), and otherwise a registry inside this process.
 *
 * Only the real file system's lock can be lost (its file removed or replaced from outside while held); the other
 * two never report a loss. The in-process registry excludes handles of one `WalFileSystem` object in this process
 * only: a file system that is neither Node's nor self-locking has nothing another process could see.
 *
 * A view over another file system names it as its `lockBase` (or, to hand out no file system, the `LockTarget`
 * `lockTargetOf` decided for it: the CLI's read-only view over Node's) and locks as it does: a restore through the
 * CLI takes the same kernel lock as a `Wal` on Node's file system.
 */

import { join, resolve } from "node:path";
import {
  checkOptionNames,
  checkPath,
  isWalError,
  optionNames,
  readCallerValue,
  shownError,
  shownValue,
  WalError,
} from "@lora/wal-codec";
import type { WalFileSystem } from "@lora/wal-segment";
import { acquireDirLockInternal, LOCK_FILE_NAME, probeDirLock } from "./dir-lock.js";
import { lockedError } from "./locked-error.js";
import { checkRetryBudgetMs } from "./retry-budget.js";

/** The lock a handle holds for its directory until `close()`. */
export interface HeldLock {
  /**
   * Whether taking this lock created `<dir>/.lora-wal.lock`: decided by the acquisition itself (see
   * `DirLock.createdFile`), never by a look before it, so a file another holder created and let go of meanwhile
   * is not counted. Only Node's kernel lock makes a file; a self-locking file system's lock and the in-process
   * registry's never do, and say `false`.
   */
  readonly createdFile: boolean;
  /**
   * Releases the lock (and stops watching it). Idempotent.
   * @throws {@link @lora/wal-codec!WalError | WalError} `WAL_IO`, as a rejection (the locks {@link lockDirectory} gives
   *   never throw at the call)
   */
  release(): Promise<void>;
  /**
   * Checks now, synchronously, that the lock still excludes other writers (cheap: an `fstat` and, on Linux, a
   * `/proc/self/fdinfo` read per held fd, and two `stat` calls when nothing changed; a removed lock file is
   * re-created and locked again here; a held fd that other code in this process closed is a loss). Call it before
   * writing after a pause, at rotation and at close.
   * @returns `null` while held; once lost, the same `WAL_LOCK_LOST` {@link @lora/wal-codec!WalError | WalError} on every call. The handle
   *   must then stop writing (poison itself with it) and still `release()`.
   */
  check(): WalError | null;
  /**
   * Calls `listener` once when the background check (about once a second) or `check()` finds the lock lost.
   * Not called after `release()`; a listener registered after the loss is called on the next microtask.
   * @returns a function that unregisters the listener.
   */
  onLost(listener: (error: WalError) => void): () => void;
}

/** What {@link releaseOutcome} gives for a release that failed: what `release()` rejected with. */
export interface ReleaseFailure {
  readonly error: unknown;
}

/**
 * Release `lock` and say how it went, never rejecting or throwing: `undefined` once it released, else what the release
 * rejected with. For a holder whose own outcome the release's failure must not replace: a failed open or restore throws
 * its own error, and one that succeeded (a close, a restore with the log in place) reports the release's failure as
 * what it is, with the work done. (The locks `lockDirectory` gives never throw from `release()`: a seam's release that
 * throws is a rejection. A `HeldLock` made elsewhere, such as a wrapper, may: its throw is taken as that failure.)
 */
export async function releaseOutcome(lock: HeldLock): Promise<ReleaseFailure | undefined> {
  try {
    await lock.release();
    return undefined;
  } catch (error) {
    return { error };
  }
}

/** Options of {@link lockDirectory}; the defaults are what a handle wants. */
export interface LockDirectoryOptions {
  /**
   * Period of the background check of the real file system's lock: a whole number of ms from 1 to 2^31 - 1, or 0 for
   * `check()` only; anything else (a fraction, which Node would run every millisecond below 1) is
   * `WAL_INVALID_OPTION`. @default 1000
   */
  readonly checkIntervalMs?: number;
}

const LOCK_DIRECTORY_OPTION_NAMES = optionNames<LockDirectoryOptions>()("checkIntervalMs");

/** How many views deep `lockBase` is followed: a view of a view is fine, a cycle must not hang the lock. */
const MAX_LOCK_BASES = 8;

/** Marks what {@link lockTargetOf} made (type only: no such property exists at run time). */
declare const madeByLockTargetOf: unique symbol;

/**
 * Which lock a file system takes, decided once by {@link lockTargetOf}: a caller that must refuse a seam before it
 * creates anything decides it first and hands it to {@link lockDirectory} and {@link probeDirectoryLock} in the file
 * system's place, so that the seam is looked at once. Only `lockTargetOf` makes one: an object of the same shape made
 * by hand does not type-check (the functions would take it for a file system, with a lock inside this process only).
 */
export type LockTarget = {
  readonly lockTarget: "node" | "self" | "registry";
  readonly [madeByLockTargetOf]: true;
};

type LockKind =
  | { readonly lockTarget: "node" }
  | { readonly lockTarget: "self"; readonly tryLock: (path: string) => unknown }
  | { readonly lockTarget: "registry"; readonly fs: WalFileSystem };

/**
 * The targets {@link lockTargetOf} made, each with what its lock needs (the file system of a registry lock, a `tryLock`):
 * kept here, not on the target, so that nothing a target is handed to (a read-only view's `lockBase`) reaches a file
 * system through it. A file system is never taken for a target.
 */
const targets = new WeakMap<object, LockKind>();

/**
 * Read a property of the seam once, refusing a getter or a proxy trap that throws as the seam's methods are refused
 * when checked (`fileSystemOption`): with a code, not as its own error from the middle of an open.
 */
function seamProperty(fs: WalFileSystem, name: string): unknown {
  return readCallerValue(
    () => (fs as unknown as Record<string, unknown>)[name],
    "WAL_INVALID_OPTION",
    `fs: reading ${name}`,
  );
}

/**
 * The lock `fs` takes ({@link lockDirectory} says which): that of `fs` itself, or of the file system its `lockBase`
 * chain ends at (followed through up to 8 views). Each property looked at (each view's `lockBase`, then the last
 * one's `name` and `tryLock`) is read once, and what was read is what the lock uses. A target it made, given as `fs`
 * or met as a view's `lockBase`, is returned as it is (the lock decided for that file system), never looked at as a
 * file system. A target names its kind only (`{ lockTarget }`): no file system is reachable from it.
 * @throws {@link @lora/wal-codec!WalError | WalError} `WAL_INVALID_OPTION` when one of them throws when read (a
 *   getter, a proxy trap), with what was thrown as the `cause`.
 */
export function lockTargetOf(fs: WalFileSystem | LockTarget): LockTarget {
  let current: object = fs;
  for (let i = 0; i < MAX_LOCK_BASES && !targets.has(current); i++) {
    const base = seamProperty(current as WalFileSystem, "lockBase");
    if (typeof base !== "object" || base === null) break;
    current = base;
  }
  if (targets.has(current)) return current as LockTarget;
  const seam = current as WalFileSystem;
  let kind: LockKind;
  if (seamProperty(seam, "name") === "node") kind = { lockTarget: "node" };
  else {
    const tryLock = seamProperty(seam, "tryLock");
    kind =
      typeof tryLock !== "function"
        ? { lockTarget: "registry", fs: seam }
        : { lockTarget: "self", tryLock: (path) => (tryLock as (path: string) => unknown).call(seam, path) };
  }
  const target = Object.freeze({ lockTarget: kind.lockTarget });
  targets.set(target, kind);
  return target as LockTarget;
}

function lockOf(fs: WalFileSystem | LockTarget): LockKind {
  return targets.get(lockTargetOf(fs)) as LockKind;
}

/** The registry: per file system object, the directories held in this process, each keyed by {@link registryKey}. */
const inProcess = new WeakMap<WalFileSystem, Set<string>>();

/**
 * One key per directory however it is spelled (`d`, `d/`, `./d`, `x/../d`, its absolute path): keyed by the string
 * as given, each spelling got a lock of its own and two handles wrote into one directory. Resolved against the
 * working directory, as a file system over Node's resolves a relative path; symbolic links are not followed (the seam
 * has no `realpath`), so a directory reached through a link is another key.
 */
function registryKey(dir: string): string {
  return resolve(dir);
}

/**
 * What a self-locking file system's lock function threw, as the lock reports it: a `WalError` as it is, anything
 * else `WAL_IO` with it as the `cause`, so that every failure of a lock has a code.
 */
function seamLockFailure(dir: string, doing: string, error: unknown): WalError {
  if (isWalError(error)) return error;
  return new WalError("WAL_IO", `${doing} the lock on ${dir} threw: ${shownError(error)}`, {
    cause: error,
    details: { path: dir },
  });
}

/**
 * What a self-locking file system's `tryLock` answered for `dir`, held to its contract: a release function (locked)
 * or `null` (held elsewhere). Anything else is refused with `WAL_IO`, as a seam whose lock failed when called, rather
 * than taken for a release function (whose `release()` would fail later with a `TypeError`). A promise (an `async
 * tryLock`) may take the lock once it settles: the release function it settles to is called then, so that nothing
 * stays held; what that release or the promise throws is not reported again (the refusal already was).
 */
function selfLockAnswer(dir: string, answer: unknown): (() => void) | null {
  if (answer === null || typeof answer === "function") return answer as (() => void) | null;
  let thenable = false;
  try {
    thenable = typeof (answer as { then?: unknown } | undefined)?.then === "function";
  } catch {
    // A `then` that throws when read is no promise.
  }
  if (thenable) {
    Promise.resolve(answer as PromiseLike<unknown>)
      .then((settled) => {
        if (typeof settled === "function") settled();
      })
      .catch(() => undefined);
  }
  const shown = thenable ? "a promise" : shownValue(answer);
  throw new WalError(
    "WAL_IO",
    `the file system's tryLock for ${dir} returned ${shown}, neither a release function nor null`,
    { details: { path: dir } },
  );
}

/**
 * A lock that cannot be lost from outside: `check()` is always null and listeners are never called. `release` calls
 * the release function once and answers every call with that one outcome, as a promise: a self-locking file system's
 * function that throws is a rejection (`WAL_IO`, the throw as the `cause`; a `WalError` as it is), never a throw out of
 * `release()`, which would escape a caller's `release().catch(...)`.
 */
function unlosable(dir: string, release: () => void): HeldLock {
  let released: Promise<void> | undefined;
  return {
    createdFile: false,
    release: () => {
      released ??= new Promise<void>((resolve, reject) => {
        try {
          release();
          resolve();
        } catch (error) {
          reject(seamLockFailure(dir, "releasing", error));
        }
      });
      return released;
    },
    check: () => null,
    onLost: (listener) => {
      if (typeof listener !== "function") {
        throw new WalError("WAL_INVALID_ARGUMENT", `onLost needs a function, got ${typeof listener}`);
      }
      return () => {};
    },
  };
}

/**
 * Takes the directory lock that fits `fs`, for a writer that does its I/O through it (what `Wal.open` does):
 *
 * - Node's file system (`fs.name === "node"`): {@link acquireDirLock}'s kernel locks, shared with LoraDB and other
 *   processes, watched while held (see `DirLock`);
 * - a file system with its own `tryLock(path)` (SimFS): that lock on `<dir>/.lora-wal.lock`, never lost;
 * - any other: a registry in this process keyed by the `fs` object and `dir` resolved (`path.resolve`: `d`, `d/`,
 *   `./d` and its absolute path are one directory; a symbolic link is not followed), never lost.
 *
 * A view with a `lockBase` file system (one that does its I/O through it, checking or counting it on the way), or a
 * `lockBase` that is a {@link LockTarget}, locks as that one does (followed through up to 8 views). `fs` may be the {@link LockTarget} {@link lockTargetOf} decided for
 * the file system, which is then not looked at again.
 *
 * @param retryBudgetMs how long a contended kernel lock is retried, in ms (default 100; 0 to 2^31 - 1, see
 *   {@link checkRetryBudgetMs}); the other two are tried once.
 * @throws {@link @lora/wal-codec!WalError | WalError} `WAL_LOCKED` when another holder has it (see
 *   {@link acquireDirLock}); `WAL_IO` and `WAL_INVALID_OPTION` from the kernel lock; `WAL_IO` when a self-locking
 *   file system's `tryLock` throws (the throw as the `cause`; a `WalError` it throws as it is) or returns neither a
 *   release function nor `null` (no lock is handed out; the lock a promise settles to is let go of); `WAL_INVALID_ARGUMENT` for a
 *   `dir` that is not a non-empty string without NUL bytes; `WAL_INVALID_OPTION` for a bad `retryBudgetMs`, for
 *   options that are not an object or name an option other than `checkIntervalMs`, and for a seam whose `lockBase`,
 *   `name` or `tryLock` throws when read (see {@link lockTargetOf}). Every kind of lock refuses these alike, before
 *   anything is locked or created.
 */
export async function lockDirectory(
  fs: WalFileSystem | LockTarget,
  dir: string,
  retryBudgetMs?: number,
  options: LockDirectoryOptions = {},
): Promise<HeldLock> {
  checkPath(dir);
  if (retryBudgetMs !== undefined) checkRetryBudgetMs(retryBudgetMs);
  const { checkIntervalMs } = checkOptionNames(options, LOCK_DIRECTORY_OPTION_NAMES, "lockDirectory");
  const lock = lockOf(fs);
  if (lock.lockTarget === "node") {
    return acquireDirLockInternal(dir, {
      ...(retryBudgetMs === undefined ? {} : { retryBudgetMs }),
      ...(checkIntervalMs === undefined ? {} : { checkIntervalMs }),
    });
  }
  if (lock.lockTarget === "self") {
    let answer: unknown;
    try {
      answer = lock.tryLock(join(dir, LOCK_FILE_NAME));
    } catch (error) {
      throw seamLockFailure(dir, "taking", error);
    }
    const release = selfLockAnswer(dir, answer);
    if (release === null) throw lockedError(dir);
    return unlosable(dir, release);
  }
  const set = inProcess.get(lock.fs) ?? new Set<string>();
  inProcess.set(lock.fs, set);
  const key = registryKey(dir);
  if (set.has(key)) throw lockedError(dir);
  set.add(key);
  return unlosable(dir, () => set.delete(key));
}

/**
 * The `WAL_LOCKED` error {@link lockDirectory} would throw for `dir` right now, when another holder has its lock;
 * `null` when it is free, or when that cannot be told. Takes no lock it keeps and creates nothing (not the lock file):
 * for a caller that refuses `dir` in any case and only has to say why (`Wal.open` finding the `*.restoring` files a
 * restore holds the lock over while it writes them). A snapshot, like {@link probeDirLock}, which it uses for Node's
 * file system; a self-locking one is tried and released at once (`null` when its `tryLock` throws); the in-process
 * registry is looked up.
 * @throws {@link @lora/wal-codec!WalError | WalError} `WAL_INVALID_ARGUMENT` for a `dir` that is not a non-empty
 *   string without NUL bytes; `WAL_INVALID_OPTION` for a seam that throws when read, as {@link lockTargetOf};
 *   `WAL_IO` when a self-locking file system's release function throws after the probe took its lock (the throw as
 *   the `cause`, a `WalError` as it is; `details.path` is `dir`): the lock was free, but the probe's own may still be
 *   held, so the failure is reported as `release()` reports it rather than as `null`; and, as from
 *   {@link lockDirectory}, when its `tryLock` returns neither a release function nor `null`.
 */
export async function probeDirectoryLock(fs: WalFileSystem | LockTarget, dir: string): Promise<WalError | null> {
  checkPath(dir);
  const lock = lockOf(fs);
  if (lock.lockTarget === "node") {
    const answer = await probeDirLock(dir).catch(() => "unknown");
    return answer === "held" ? lockedError(dir) : null;
  }
  if (lock.lockTarget === "self") {
    let answer: unknown;
    try {
      answer = lock.tryLock(join(dir, LOCK_FILE_NAME));
    } catch {
      return null; // cannot be told, as for a kernel lock whose probe fails
    }
    // An answer that is neither a release function nor null is refused: it may have locked with no way to let go,
    // which is reported as a failing release is below.
    const release = selfLockAnswer(dir, answer);
    if (release === null) return lockedError(dir);
    try {
      release();
    } catch (error) {
      // Free when probed, but the probe's own lock may still be held (a holder after it would be refused by it): the
      // failure is reported as a held lock's `release()` reports it, not hidden behind that `null`.
      throw seamLockFailure(dir, "releasing (after probing)", error);
    }
    return null;
  }
  return inProcess.get(lock.fs)?.has(registryKey(dir)) === true ? lockedError(dir) : null;
}
