/**
 * Which lock a handle takes: the kernel `flock` on `.lora-wal.lock` plus one on the directory for the real file
 * system (LoraDB's lock, so the two exclude each other; see `dir-lock.ts`), the file system's own lock where it
 * offers one (SimFS), and otherwise a registry inside this process.
 *
 * Only the real file system's lock can be lost (its file removed or replaced from outside while held); the other
 * two never report a loss. The in-process registry excludes handles of one `WalFileSystem` object in this process
 * only: a file system that is neither Node's nor self-locking has nothing another process could see.
 *
 * A view over another file system (the CLI's read-only view over Node's) names it as its `lockBase` and locks as it
 * does: a restore through the CLI takes the same kernel lock as a `Wal` on Node's file system.
 */

import { join } from "node:path";
import { WalError } from "@lora/wal-codec";
import type { WalFileSystem } from "@lora/wal-segment";
import { acquireDirLockInternal, LOCK_FILE_NAME, probeDirLock } from "./dir-lock.js";

/** The lock a handle holds for its directory until `close()`. */
export interface HeldLock {
  /**
   * Releases the lock (and stops watching it). Idempotent.
   * @throws {@link @lora/wal-codec!WalError | WalError} `WAL_IO`
   */
  release(): Promise<void>;
  /**
   * Checks now, synchronously, that the lock still excludes other writers (cheap: two `stat` calls when nothing
   * changed; a removed lock file is re-created and locked again here). Call it before writing after a pause, at
   * rotation and at close.
   * @returns `null` while held; once lost, the same `WAL_LOCK_LOST` {@link WalError} on every call. The handle
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

/** Options of {@link lockDirectory}; the defaults are what a handle wants. */
export interface LockDirectoryOptions {
  /** Period of the background check of the real file system's lock, ms; 0 = `check()` only. @default 1000 */
  readonly checkIntervalMs?: number;
}

interface SelfLockingFileSystem extends WalFileSystem {
  tryLock(path: string): (() => void) | null;
}

/** A view that does its I/O through `lockBase` (checking or counting it on the way): it locks as `lockBase` does. */
interface LockDelegatingFileSystem extends WalFileSystem {
  readonly lockBase: WalFileSystem;
}

/** How many views deep `lockBase` is followed: a view of a view is fine, a cycle must not hang the lock. */
const MAX_LOCK_BASES = 8;

/** The file system whose lock `fs` takes: `fs` itself, or the one its `lockBase` chain ends at. */
function lockingFileSystem(fs: WalFileSystem): WalFileSystem {
  let current = fs;
  for (let i = 0; i < MAX_LOCK_BASES; i++) {
    const base = (current as Partial<LockDelegatingFileSystem>).lockBase;
    if (typeof base !== "object" || base === null) return current;
    current = base;
  }
  return current;
}

const inProcess = new WeakMap<WalFileSystem, Set<string>>();

function locked(dir: string): WalError {
  return new WalError("WAL_LOCKED", `WAL directory is already open by another live handle: ${dir}`, {
    details: { path: dir },
  });
}

/** A lock that cannot be lost from outside: `check()` is always null and listeners are never called. */
function unlosable(release: () => void): HeldLock {
  let released = false;
  return {
    release: () => {
      if (!released) release();
      released = true;
      return Promise.resolve();
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
 * - any other: a registry in this process keyed by the `fs` object and `dir` as given, never lost.
 *
 * A view with a `lockBase` file system locks as that one does (followed through up to 8 views).
 *
 * @param retryBudgetMs how long a contended kernel lock is retried, in ms (default 100); the other two are tried once.
 * @throws {@link @lora/wal-codec!WalError | WalError} `WAL_LOCKED` when another holder has it (see
 *   {@link acquireDirLock}); `WAL_IO` and `WAL_INVALID_OPTION` from the kernel lock.
 */
export async function lockDirectory(
  fs: WalFileSystem,
  dir: string,
  retryBudgetMs?: number,
  options: LockDirectoryOptions = {},
): Promise<HeldLock> {
  const locking = lockingFileSystem(fs);
  if (locking.name === "node") {
    return acquireDirLockInternal(dir, {
      ...(retryBudgetMs === undefined ? {} : { retryBudgetMs }),
      ...(options.checkIntervalMs === undefined ? {} : { checkIntervalMs: options.checkIntervalMs }),
    });
  }
  const self = locking as Partial<SelfLockingFileSystem>;
  if (typeof self.tryLock === "function") {
    const release = self.tryLock(join(dir, LOCK_FILE_NAME));
    if (release === null) throw locked(dir);
    return unlosable(release);
  }
  const set = inProcess.get(locking) ?? new Set<string>();
  inProcess.set(locking, set);
  if (set.has(dir)) throw locked(dir);
  set.add(dir);
  return unlosable(() => set.delete(dir));
}

/**
 * The `WAL_LOCKED` error {@link lockDirectory} would throw for `dir` right now, when another holder has its lock;
 * `null` when it is free, or when that cannot be told. Takes no lock it keeps and creates nothing (not the lock file):
 * for a caller that refuses `dir` in any case and only has to say why (`Wal.open` finding the `*.restoring` files a
 * restore holds the lock over while it writes them). A snapshot, like {@link probeDirLock}, which it uses for Node's
 * file system; a self-locking one is tried and released at once; the in-process registry is looked up.
 */
export async function probeDirectoryLock(fs: WalFileSystem, dir: string): Promise<WalError | null> {
  const locking = lockingFileSystem(fs);
  if (locking.name === "node") {
    const answer = await probeDirLock(dir).catch(() => "unknown");
    return answer === "held" ? locked(dir) : null;
  }
  const self = locking as Partial<SelfLockingFileSystem>;
  if (typeof self.tryLock === "function") {
    const release = self.tryLock(join(dir, LOCK_FILE_NAME));
    if (release === null) return locked(dir);
    release();
    return null;
  }
  return inProcess.get(locking)?.has(dir) === true ? locked(dir) : null;
}
