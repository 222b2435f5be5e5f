/**
 * The WAL directory lock. A holder takes two exclusive, non-blocking advisory locks, always in this order:
 *
 * 1. **the directory itself** (`flock` on an `O_RDONLY | O_DIRECTORY` fd of `<dir>`; unix only). Only `@lora/wal`
 *    (through this package) takes it. It cannot be deleted from under a holder the way a file can, so two
 *    `@lora/wal` handles exclude each other even after someone removes `.lora-wal.lock` to clear a "stale lock";
 * 2. **`<dir>/.lora-wal.lock`**, the same kernel lock LoraDB takes (`flock` on unix, `LockFileEx` on Windows; see
 *    `flock.ts`), so a LoraDB process and an `@lora/wal` handle exclude each other, exactly as before.
 *
 * Taking them in one fixed order means two `@lora/wal` openers never hold one each: the second one stops at the
 * directory and retries. LoraDB never takes the directory lock, so it cannot wait on us for it.
 *
 * **At open**, after `flock` on the file succeeds, the fd must still be the file at the path (`fstat` of the fd
 * against `stat` of the path, dev + inode; the same for the directory). If the file was removed or replaced between
 * our `open` and our `flock` we close and start over, at most 8 times, then `WAL_LOCKED`.
 * Then, on Linux, `/proc/locks` is searched for a process that still holds a `flock` on a *removed*
 * `<dir>/.lora-wal.lock` (a LoraDB whose lock file was deleted): LoraDB only knows the file lock, so without this a
 * fresh file at the same path would let us in beside it. Such a holder is treated as contention (retried within
 * the budget, then `WAL_LOCKED` naming its pid). Typical cost: one read of `/proc/locks` plus, only for `flock`
 * entries on this file system that are not ours, a `readlink` per open fd of their process (see this package's README).
 *
 * **While held**, the lock watches its file: an unref'd timer (every second; `lockDirectory`'s `checkIntervalMs`
 * sets another period) and {@link DirLock.check} compare `stat(<path>)` with the held fd's identity. When the file was removed, or replaced
 * by one nobody holds, a new one is created (or the new one adopted) and locked, which restores the exclusion of
 * LoraDB. When another process already holds the file now at the path (LoraDB got in), or the directory itself
 * was removed or replaced, the lock is *lost*: `check()` returns a `WAL_LOCK_LOST` error from then on and the
 * {@link DirLock.onLost} listeners are called once; the handle must stop writing. The held fds are checked first
 * (`fstat`, dev + inode against what was locked): other code in this process that closes one drops its kernel lock
 * with it, so an fd that is closed (EBADF) or whose number now names another file is a lost lock too, and that
 * number is never unlocked or closed by us again (it may be someone else's file by then). A number opened again on
 * the same file (same dev + inode, which `fstat` cannot tell apart) is found on Linux through
 * `/proc/self/fdinfo/<fd>`, which lists the locks of the open file description behind the number (Linux >= 4.1):
 * when it listed our lock at acquisition and lists no exclusive lock now, the lock is lost the same way. Where
 * fdinfo is missing, or did not list our lock at acquisition, that case is not detected (never a false loss).
 *
 * **Guaranteed**: two `@lora/wal` holders of one directory (same or different processes) never both hold it,
 * whatever happens to `.lora-wal.lock`, wherever the directory lock is taken ({@link DirLock.directoryLocked}:
 * unix on a local file system); a LoraDB that holds the file at its path is never joined by us at open; both are
 * kernel locks, so a SIGKILLed holder never leaves a stale lock. The lock file is opened
 * read+write, created if missing, never truncated, never written and never deleted; {@link DirLock.createdFile} says
 * whether this acquisition created it.
 *
 * **Not guaranteed** (LoraDB knows only the file lock, and does not notice when its file is removed):
 * - after `.lora-wal.lock` is removed under *our* handle, a LoraDB may open the directory in the window before our
 *   next check (at most the check interval, or until the handle calls `check()`). If it is still there at the
 *   check we report the lock lost; if it opened, wrote and closed inside the window, nothing can tell.
 * - the search for a LoraDB holding a removed lock file is Linux only and best effort: it finds nothing when
 *   `/proc` is missing or unreadable (another user's process, `hidepid`, another pid namespace), when the holder
 *   reached the directory through another path (bind mount, chroot) or the file was renamed instead of removed,
 *   and it misses a LoraDB that opened the file before it was removed but `flock`s it only after our search.
 * - on Windows (UNTESTED) there is no directory lock and no `/proc`: only the file lock and its watcher remain.
 *   Where `flock` refuses a directory fd (e.g. NFS) the directory lock is skipped ({@link DirLock.directoryLocked}).
 *
 * Retry policy (LoraDB >= 0.11): while contended, back off 100 µs doubling to a 5 ms cap; elapsed time is checked
 * after each failed attempt and once it is >= the budget (100 ms) the result is `WAL_LOCKED`. Any other failure is
 * `WAL_IO` at once. Sleeps go through `setTimeout`, whose 1 ms floor stretches the first few back-offs; that only
 * means fewer attempts inside the same budget.
 */

import {
  type BigIntStats,
  close as closeCb,
  closeSync,
  constants as fsConstants,
  fstatSync,
  open as openCb,
  openSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  realpathSync,
  statSync,
} from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { checkOptionNames, checkPath, errnoOf, MAX_TIMER_MS, optionNames, shownValue, WalError } from "@lora/wal-codec";
import { LOCK_FILE_NAME } from "@lora/wal-segment";
import { type LockBinding, lockBinding } from "./flock.js";
import { HeldDescriptor, type Identity, identity, type Ownership, sameIdentity } from "./held-descriptor.js";
import { lockedError } from "./locked-error.js";
import { checkRetryBudgetMs } from "./retry-budget.js";

// Opens and closes go through the thread pool. The identity checks (fstat, stat) and the /proc search are
// synchronous: metadata calls and procfs reads that never wait for a disk, where a thread-pool round trip each
// would cost more than the calls (and the held lock's check must be synchronous anyway).
const open = promisify(openCb);
const close = promisify(closeCb);

/** Name of the lock file inside a WAL directory (LoraDB's name), defined beside the segment names it is not one of. */
export { LOCK_FILE_NAME };

/** Default retry budget, as in LoraDB. */
export const DEFAULT_LOCK_RETRY_BUDGET_MS = 100;

/** How often a held lock checks that its file is still the one at the path ("every second" in the docs). */
export const DEFAULT_LOCK_CHECK_INTERVAL_MS = 1000;

/**
 * How many times the file (or directory) may be found removed or replaced right after locking it, per acquire ("at
 * most 8 times" in the docs).
 */
export const MAX_MOVED_RETRIES = 8;

const INITIAL_BACKOFF_US = 100;
const MAX_BACKOFF_US = 5_000;

// O_NONBLOCK so that a FIFO at the lock path cannot hang the open (it is then refused as not a regular file); no
// effect on regular files. Absent on Windows.
const O_NONBLOCK = fsConstants.O_NONBLOCK ?? 0;
const O_DIRECTORY = fsConstants.O_DIRECTORY ?? 0;
const LOCK_FILE_FLAGS = fsConstants.O_RDWR | fsConstants.O_CREAT | O_NONBLOCK;
/** The lock file opened only if it is there: see {@link openLockFile}. */
const EXISTING_LOCK_FILE_FLAGS = fsConstants.O_RDWR | O_NONBLOCK;
/** The lock file created, and opened only if this open created it: see {@link openLockFile}. */
const NEW_LOCK_FILE_FLAGS = LOCK_FILE_FLAGS | fsConstants.O_EXCL;

/** Options of `acquireDirLock`. */
export interface AcquireDirLockOptions {
  /**
   * How long to keep retrying a contended lock before `WAL_LOCKED`, in ms: 0 (a single attempt) to 2^31 - 1, a
   * fraction allowed; `Infinity` is refused (see {@link checkRetryBudgetMs}). Default 100.
   */
  readonly retryBudgetMs?: number;
}

const ACQUIRE_OPTION_NAMES = optionNames<AcquireDirLockOptions>()("retryBudgetMs");

/**
 * Options for the handle and for tests; not exported from the package. `acquireDirLock` takes only the public
 * ones.
 * @internal
 */
export interface DirLockInternalOptions extends AcquireDirLockOptions {
  /**
   * Period of the held lock's background check: a whole number of ms from 1 to 2^31 - 1, or 0 to turn the timer off
   * (`check()` only). Default 1000.
   */
  readonly checkIntervalMs?: number;
  /** Where procfs is mounted. Default `/proc`; a path without procfs turns the removed-file search off. */
  readonly procRoot?: string;
  /** Test seam: runs after each open of the lock file and before its `flock` (attempt counts from 0). */
  readonly beforeFileLock?: (attempt: number) => void | Promise<void>;
  /** Test seam: runs before each attempt (counting from 0), so a test counts attempts instead of timing them. */
  readonly beforeAttempt?: (attempt: number) => void;
}

/** A held directory lock. */
export interface DirLock extends AsyncDisposable {
  /** The WAL directory. */
  readonly dir: string;
  /** The lock file, `<dir>/.lora-wal.lock`. */
  readonly path: string;
  /** False once `release()` has been called. */
  readonly held: boolean;
  /**
   * Whether this acquisition created `.lora-wal.lock`: true only when the open of the attempt that took the lock is the
   * one that created the file (`O_EXCL`), so a file another holder created and let go of at any point before that open
   * is never counted as this lock's. A holder that must leave the directory as it found it (a failed restore) removes
   * the file, while it still holds the lock, only when this is true. A file re-created while held (see
   * {@link DirLock.check}) does not change it.
   */
  readonly createdFile: boolean;
  /**
   * Whether the directory itself is locked too (unix). False on Windows and where the file system refuses `flock`
   * on a directory fd; then two `@lora/wal` handles exclude each other only through the file.
   */
  readonly directoryLocked: boolean;
  /**
   * Checks now, synchronously (an `fstat` and, on Linux, a read of `/proc/self/fdinfo/<fd>` for each held fd, and
   * two `stat` calls when nothing changed), that the held fds are still open on what was locked and still hold its
   * lock, that `.lora-wal.lock` is still the file this lock holds and the
   * directory is still the one it locked. A removed file, or one replaced by a file nobody holds, is re-created or
   * adopted and locked again (restoring the exclusion of LoraDB) and `null` is returned.
   *
   * @returns `null` while the lock holds (and after `release()`, unless it was lost before); once lost, the same
   *   `WAL_LOCK_LOST` {@link @lora/wal-codec!WalError | WalError} on every call: a held fd was closed by other code in this process (its
   *   number free, reused for another file, or, on Linux, opened again on the same file or directory without the
   *   lock: the kernel lock went with the old fd), another process holds the file now at the path, the directory
   *   was removed or replaced, or the file could not be re-created or locked (`cause` says why). A lost lock stays
   *   lost; the holder must stop writing and release it. Not detected: a number opened again on the same file or
   *   directory where `/proc/self/fdinfo` is missing or lists no locks (not Linux, a kernel before 4.1, no procfs),
   *   and one whose new open took an exclusive lock of its own (it excludes others while it stays open).
   */
  check(): WalError | null;
  /**
   * Calls `listener` once when the lock is found lost, by the background check or by {@link DirLock.check}. Registered
   * after the loss, it is called on the next microtask. Not called after `release()`. A listener must not throw:
   * what it throws is rethrown on a microtask (an uncaught exception).
   * @returns a function that unregisters the listener.
   * @throws {@link @lora/wal-codec!WalError | WalError} `WAL_INVALID_ARGUMENT` when `listener` is not a function.
   */
  onLost(listener: (error: WalError) => void): () => void;
  /**
   * Releases both locks by closing their fds and stops the background check; the file stays. An fd that other code
   * in this process closed (free now, another file's, or a new open of the same file, as {@link DirLock.check} can
   * tell) is left alone: its lock is gone already. Idempotent; concurrent calls share one close.
   * @throws {@link @lora/wal-codec!WalError | WalError} `WAL_IO` when closing an fd fails.
   */
  release(): Promise<void>;
}

/**
 * Takes the exclusive lock on the WAL directory `dir` and on `<dir>/.lora-wal.lock`, creating the file (not the
 * directory) if needed. See the module documentation for what is and is not guaranteed.
 *
 * @throws WalError `WAL_LOCKED` when another handle (any process, including this one, or LoraDB) still holds it
 *   after the retry budget — including a process that holds a removed `.lora-wal.lock` of `dir` (Linux), and a
 *   lock file that keeps being replaced while we lock it; `WAL_IO` for any other failure (e.g. the directory does
 *   not exist, or the lock path is a directory or another non-regular file); `WAL_INVALID_ARGUMENT` for a `dir` that
 *   is not a non-empty string without NUL bytes; `WAL_INVALID_OPTION` for options that are not an object, name an
 *   option other than `retryBudgetMs`, or hold a bad budget. Refused before anything is created.
 */
export async function acquireDirLock(dir: string, options: AcquireDirLockOptions = {}): Promise<DirLock> {
  checkPath(dir);
  // Read once; an unknown name (a misspelling, or one of the internal options) is refused, not ignored.
  const budget = checkOptionNames(options, ACQUIRE_OPTION_NAMES, "acquireDirLock").retryBudgetMs;
  return await acquireDirLockInternal(dir, budget === undefined ? {} : { retryBudgetMs: budget });
}

/**
 * {@link acquireDirLock} with the internal options.
 * @internal
 */
export async function acquireDirLockInternal(dir: string, internal: DirLockInternalOptions = {}): Promise<DirLock> {
  checkPath(dir);
  const budgetMs = internal.retryBudgetMs ?? DEFAULT_LOCK_RETRY_BUDGET_MS;
  checkRetryBudgetMs(budgetMs);
  const intervalMs = internal.checkIntervalMs ?? DEFAULT_LOCK_CHECK_INTERVAL_MS;
  // A timer's period: Node runs one above 2^31 - 1 ms or below 1 ms every millisecond, and a fraction is no period
  // anyone meant. 0 turns the timer off.
  if (typeof intervalMs !== "number" || !Number.isInteger(intervalMs) || intervalMs < 0 || intervalMs > MAX_TIMER_MS) {
    throw new WalError(
      "WAL_INVALID_OPTION",
      "checkIntervalMs must be 0 (no background check) or a whole number of ms from 1 to 2^31 - 1, got " +
        shownValue(intervalMs),
    );
  }
  const path = join(dir, LOCK_FILE_NAME);
  const binding = loadBinding(path);
  const ctx: AttemptContext = {
    dir,
    path,
    binding,
    procRoot: internal.procRoot ?? "/proc",
    beforeFileLock: internal.beforeFileLock,
  };

  const start = performance.now();
  let backoffUs = INITIAL_BACKOFF_US;
  let moved = 0;
  let attempt = 0;
  for (;;) {
    internal.beforeAttempt?.(attempt);
    const r = await tryAcquire(ctx, attempt++);
    if (r.kind === "locked") return new HeldDirLock(ctx, r, intervalMs);
    if (r.kind === "moved") {
      if (++moved > MAX_MOVED_RETRIES) {
        throw new WalError(
          "WAL_LOCKED",
          `the WAL lock file ${path} (or its directory) was removed or replaced each time it was locked ` +
            `(${moved} times); something else is working on it: ${dir}`,
          { details: { path: dir } },
        );
      }
      continue; // no back-off: nobody holds it, the file just moved
    }
    if (performance.now() - start >= budgetMs) {
      if (r.holderPid !== undefined) throw removedFileHeld(dir, path, r.holderPid);
      throw lockedError(dir, budgetMs);
    }
    await sleep(backoffUs / 1000);
    backoffUs = Math.min(backoffUs * 2, MAX_BACKOFF_US);
  }
}

/**
 * Whether `<dir>` is locked right now, without changing a byte: makes one non-blocking attempt on the directory
 * lock, then opens an existing lock file read-only (never creates it), makes one attempt on it, and releases at
 * once; on Linux it also searches `/proc` for a process holding a removed lock file of `dir`. For read-only tools
 * such as `inspect`.
 *
 * The answer is a snapshot. While the probe holds a lock (microseconds), a writer opening the directory sees
 * contention and simply retries within its budget.
 *
 * @returns `"missing"` when the directory or its lock file does not exist and nothing holds a lock on it (no
 *   writer has ever opened it, or it is not a WAL directory); `"held"` when another handle holds the directory
 *   lock or the lock file, or (Linux) a process holds a removed lock file of `dir` — even if `.lora-wal.lock` is
 *   missing; `"free"` otherwise. Never `"free"` for a lock path that is not a regular file: that throws.
 * @throws WalError `WAL_IO` when the lock path is a directory (`details.errno` `EISDIR`) or another non-regular
 *   file (a FIFO, a socket, a device), and for any other failure; `WAL_INVALID_ARGUMENT` for a `dir` that is not a
 *   non-empty string without NUL bytes.
 */
export async function probeDirLock(dir: string): Promise<"free" | "held" | "missing"> {
  checkPath(dir);
  const path = join(dir, LOCK_FILE_NAME);
  const binding = loadBinding(path);
  const procRoot = "/proc";
  const live: bigint[] = [];
  let dirFd = -1;
  let fd = -1;
  try {
    if (binding.directoryLocks) {
      try {
        dirFd = await open(dir, fsConstants.O_RDONLY | O_DIRECTORY);
      } catch (e) {
        const code = errnoOf(e);
        if (code === "ENOENT") return "missing";
        // An unreadable directory (EACCES, EPERM) is probed through its file alone.
        if (code !== "EACCES" && code !== "EPERM") {
          throw ioError(`cannot open the WAL directory ${dir}`, dir, "open", e);
        }
      }
      if (dirFd >= 0) {
        const r = tryLockDirectory(binding, dirFd);
        if (r === "contended") return "held";
        if (r === "locked") live.push(fstatFd(dirFd, dir).ino);
      }
    }
    try {
      // flock and LockFileEx both work on read-only descriptors.
      fd = await open(path, fsConstants.O_RDONLY | O_NONBLOCK);
    } catch (e) {
      if (errnoOf(e) !== "ENOENT") {
        throw ioError(`cannot open the WAL lock file ${path}`, path, "open", e);
      }
    }
    if (fd >= 0) {
      const id = fstatFd(fd, path);
      assertRegularFile(id, path);
      if (tryLock(binding, fd, path) === "contended") return "held";
      live.push(id.ino);
    }
    const locks = readLockTable(procRoot);
    if (locks !== null && findRemovedLockHolder(dir, live, locks, procRoot) !== null) return "held";
    return fd >= 0 ? "free" : "missing";
  } finally {
    if (fd >= 0) {
      try {
        binding.unlock(fd);
      } catch {
        // closing releases it
      }
      await close(fd).catch(() => {});
    }
    if (dirFd >= 0) await close(dirFd).catch(() => {});
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Acquiring

interface AttemptContext {
  readonly dir: string;
  readonly path: string;
  readonly binding: LockBinding;
  readonly procRoot: string;
  readonly beforeFileLock: ((attempt: number) => void | Promise<void>) | undefined;
}

interface Locked {
  readonly kind: "locked";
  readonly fd: number;
  /** -1 when the directory lock is not available here. */
  readonly dirFd: number;
  readonly fileId: Identity;
  readonly dirId: Identity;
  /** Whether this attempt's open created the lock file. */
  readonly createdFile: boolean;
}

type AttemptResult =
  | Locked
  | { readonly kind: "contended"; readonly holderPid?: number }
  /** The file or the directory was removed or replaced between our open and our lock. */
  | { readonly kind: "moved" };

/** One attempt: directory lock, then file lock, identity check, removed-file search. Closes what it opened unless locked. */
async function tryAcquire(ctx: AttemptContext, attempt: number): Promise<AttemptResult> {
  const { dir, path, binding } = ctx;
  let dirFd = -1;
  let fd = -1;
  try {
    if (binding.directoryLocks) {
      try {
        dirFd = await open(dir, fsConstants.O_RDONLY | O_DIRECTORY);
      } catch (e) {
        throw ioError(`cannot open the WAL directory ${dir}`, dir, "open", e);
      }
      const r = tryLockDirectory(binding, dirFd);
      if (r === "contended") return { kind: "contended" };
      if (r === "unsupported") {
        await close(dirFd).catch(() => {});
        dirFd = -1;
      }
    }

    const opened = await openLockFile(path);
    fd = opened.fd;
    const fileStat = fstatFd(fd, path);
    assertRegularFile(fileStat, path);
    await ctx.beforeFileLock?.(attempt);
    if (tryLock(binding, fd, path) === "contended") return { kind: "contended" };

    // The lock is on the open file description: make sure it is the file at the path (and the directory at
    // `dir`), or a concurrent unlink/replace left us holding a file nobody else will ever look at.
    if (!sameIdentity(statPath(path), fileStat)) return { kind: "moved" };
    const dirStat = dirFd >= 0 ? fstatFd(dirFd, dir) : statPath(dir);
    if (dirStat === null) return { kind: "moved" };
    if (dirFd >= 0 && !sameIdentity(statPath(dir), dirStat)) return { kind: "moved" };

    const locks = readLockTable(ctx.procRoot);
    if (locks !== null) {
      const pid = findRemovedLockHolder(dir, [fileStat.ino, dirStat.ino], locks, ctx.procRoot);
      if (pid !== null) return { kind: "contended", holderPid: pid };
    }

    const locked: Locked = {
      kind: "locked",
      fd,
      dirFd,
      fileId: identity(fileStat),
      dirId: identity(dirStat),
      createdFile: opened.created,
    };
    fd = -1;
    dirFd = -1;
    return locked;
  } finally {
    if (fd >= 0) await close(fd).catch(() => {});
    if (dirFd >= 0) await close(dirFd).catch(() => {});
  }
}

/**
 * Open the lock file, creating it when missing (never truncated; mode 0o666 minus umask, as Rust's default), and say
 * whether this open created it. The common case, a file that is there, costs one `open`; a missing one is created with
 * `O_EXCL`, so that `created` is true only for the open that made it, whoever else creates or removes it meanwhile. A
 * file that keeps appearing and vanishing between the two opens (or a dangling symbolic link, which `O_EXCL` refuses
 * and a plain open does not follow) ends, after {@link MAX_MOVED_RETRIES} tries, in the open this lock always made
 * (`O_CREAT` alone), counted as not created: a file this lock may not have made is never reported as its own.
 */
async function openLockFile(path: string): Promise<{ fd: number; created: boolean }> {
  const failed = (e: unknown) => ioError(`cannot open the WAL lock file ${path}`, path, "open", e);
  for (let i = 0; i < MAX_MOVED_RETRIES; i++) {
    try {
      return { fd: await open(path, EXISTING_LOCK_FILE_FLAGS), created: false };
    } catch (e) {
      if (errnoOf(e) !== "ENOENT") throw failed(e);
    }
    try {
      return { fd: await open(path, NEW_LOCK_FILE_FLAGS, 0o666), created: true };
    } catch (e) {
      if (errnoOf(e) !== "EEXIST") throw failed(e);
    }
  }
  try {
    return { fd: await open(path, LOCK_FILE_FLAGS, 0o666), created: false };
  } catch (e) {
    throw failed(e);
  }
}

/** `"unsupported"` when `flock` refuses a directory fd here (e.g. NFS): the caller goes on with the file lock. */
function tryLockDirectory(binding: LockBinding, dirFd: number): "locked" | "contended" | "unsupported" {
  try {
    return binding.tryLock(dirFd);
  } catch {
    return "unsupported";
  }
}

// ---------------------------------------------------------------------------------------------------------------
// A process holding a removed lock file (Linux, /proc)

interface LockTableEntry {
  readonly pid: number;
  /** `major:minor` as /proc/locks spells it (the superblock's device, not always `stat`'s `st_dev`). */
  readonly dev: string;
  readonly ino: bigint;
}

// "1: FLOCK  ADVISORY  WRITE 3512 fe:00:2146562 0 EOF"; waiters have "->" after the id and hold nothing.
const LOCK_LINE = /^\d+:\s+(\S+)\s+\S+\s+\S+\s+(\d+)\s+([0-9a-f]+:[0-9a-f]+):(\d+)\s/;

/** The `flock` holders listed in `<procRoot>/locks`; `null` when it cannot be read (not Linux, no procfs). */
function readLockTable(procRoot: string): LockTableEntry[] | null {
  if (process.platform !== "linux") return null;
  let text: string;
  try {
    text = readFileSync(join(procRoot, "locks"), "latin1");
  } catch {
    return null;
  }
  const entries: LockTableEntry[] = [];
  for (const line of text.split("\n")) {
    const m = LOCK_LINE.exec(line);
    if (m === null || m[1] !== "FLOCK") continue;
    entries.push({ pid: Number(m[2]), dev: m[3] as string, ino: BigInt(m[4] as string) });
  }
  return entries;
}

/**
 * The pid of a process that holds a `flock` on a removed `<dir>/.lora-wal.lock`, or `null`. For each `flock` entry
 * on this file system whose inode is not one of `live` (the files we hold right now), reads the holder's
 * `/proc/<pid>/fd/*` links: a link reading `<realpath(dir)>/.lora-wal.lock (deleted)` whose target (stat through
 * the link) has the entry's inode and the directory's device is a holder. Our own pid is searched too (a LoraDB
 * running in this process). Anything unreadable is skipped: best effort.
 */
function findRemovedLockHolder(
  dir: string,
  live: readonly bigint[],
  locks: readonly LockTableEntry[],
  procRoot: string,
): number | null {
  // /proc/locks prints the superblock's device, which is not stat's st_dev on btrfs subvolumes or overlayfs; the
  // entry of a lock we hold right now tells how it spells this file system. Without one, every device is searched.
  const ours = locks.find((e) => e.pid === process.pid && live.includes(e.ino));
  const byPid = new Map<number, Set<bigint>>();
  for (const e of locks) {
    if (live.includes(e.ino) || (ours !== undefined && e.dev !== ours.dev)) continue;
    const set = byPid.get(e.pid) ?? new Set<bigint>();
    set.add(e.ino);
    byPid.set(e.pid, set);
  }
  if (byPid.size === 0) return null;
  let target: string;
  let dirDev: bigint;
  try {
    target = `${join(realpathSync.native(dir), LOCK_FILE_NAME)} (deleted)`;
    dirDev = statSync(dir, { bigint: true }).dev;
  } catch {
    return null;
  }
  for (const [pid, inodes] of byPid) {
    const fdDir = join(procRoot, String(pid), "fd");
    let names: string[];
    try {
      names = readdirSync(fdDir);
    } catch {
      continue; // gone, or another user's process
    }
    for (const name of names) {
      const link = join(fdDir, name);
      try {
        if (readlinkSync(link) !== target) continue;
        const s = statSync(link, { bigint: true }); // through the link: the removed file itself
        if (s.dev === dirDev && inodes.has(s.ino)) return pid;
      } catch {
        // closed meanwhile
      }
    }
  }
  return null;
}

// ---------------------------------------------------------------------------------------------------------------
// Holding

class HeldDirLock implements DirLock {
  readonly dir: string;
  readonly path: string;
  readonly directoryLocked: boolean;
  readonly createdFile: boolean;
  readonly #binding: LockBinding;
  /** Kept open for as long as the lock is held: the lock belongs to this fd's open file description. */
  #file: HeldDescriptor;
  /** The directory's descriptor (null without a directory lock). */
  readonly #dir: HeldDescriptor | null;
  /** What must be at `dir`: checked with or without a directory descriptor. */
  readonly #dirId: Identity;
  readonly #procRoot: string;
  #timer: NodeJS.Timeout | undefined;
  #lost: WalError | null = null;
  readonly #listeners = new Set<(error: WalError) => void>();
  #released: Promise<void> | undefined;

  constructor(ctx: AttemptContext, locked: Locked, intervalMs: number) {
    this.dir = ctx.dir;
    this.path = ctx.path;
    this.#binding = ctx.binding;
    this.#file = this.#heldFile(locked.fd, locked.fileId, ctx.procRoot);
    this.#dir =
      locked.dirFd >= 0
        ? new HeldDescriptor(locked.dirFd, locked.dirId, `the WAL directory ${ctx.dir}`, ctx.dir, ctx.procRoot)
        : null;
    this.#dirId = locked.dirId;
    this.#procRoot = ctx.procRoot;
    this.directoryLocked = locked.dirFd >= 0;
    this.createdFile = locked.createdFile;
    if (intervalMs > 0) {
      // unref'd: the check must never keep the process alive on its own.
      this.#timer = setInterval(() => this.check(), intervalMs);
      this.#timer.unref();
    }
  }

  get held(): boolean {
    return this.#released === undefined;
  }

  check(): WalError | null {
    if (this.#lost === null && this.#released === undefined) {
      const lost = this.#verify();
      if (lost !== null) this.#markLost(lost);
    }
    return this.#lost;
  }

  onLost(listener: (error: WalError) => void): () => void {
    if (typeof listener !== "function") {
      throw new WalError("WAL_INVALID_ARGUMENT", `onLost needs a function, got ${typeof listener}`);
    }
    if (this.#released !== undefined) return () => {};
    const lost = this.#lost;
    if (lost !== null) {
      queueMicrotask(() => listener(lost));
      return () => {};
    }
    this.#listeners.add(listener);
    return () => {
      this.#listeners.delete(listener);
    };
  }

  release(): Promise<void> {
    this.#released ??= this.#close();
    return this.#released;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.release();
  }

  /** Synchronous, so the timer and `check()` can never interleave. Returns the loss, or null when (again) held. */
  #verify(): WalError | null {
    const fdLost = this.#descriptorLost();
    if (fdLost !== null) return fdLost;
    try {
      if (!sameIdentity(statSync(this.dir, { bigint: true, throwIfNoEntry: false }) ?? null, this.#dirId)) {
        return this.#lostError(`the WAL directory ${this.dir} was removed or replaced while this handle held it`);
      }
      for (let i = 0; i <= MAX_MOVED_RETRIES; i++) {
        const atPath = statSync(this.path, { bigint: true, throwIfNoEntry: false }) ?? null;
        if (sameIdentity(atPath, this.#file.id)) return null;
        // Removed (re-create it) or replaced (adopt the new file if nobody holds it).
        const fd = openSync(this.path, LOCK_FILE_FLAGS, 0o666);
        let keep = false;
        try {
          const id = fstatSync(fd, { bigint: true });
          assertRegularFile(id, this.path);
          if (this.#binding.tryLock(fd) === "contended") {
            return this.#lostError(
              `the WAL lock file ${this.path} was removed or replaced while this handle held it, and another ` +
                `process (LoraDB?) holds the file now at that path; stop writing to ${this.dir}`,
            );
          }
          if (!sameIdentity(statSync(this.path, { bigint: true, throwIfNoEntry: false }) ?? null, id)) continue;
          keep = true;
          const old = this.#file.fd;
          this.#file = this.#heldFile(fd, id, this.#procRoot);
          try {
            closeSync(old); // its lock was on a file nobody can find any more
          } catch {
            // nothing depends on it
          }
          return null;
        } finally {
          if (!keep) closeSync(fd);
        }
      }
      return this.#lostError(`the WAL lock file ${this.path} kept being replaced; stop writing to ${this.dir}`);
    } catch (e) {
      return this.#lostError(
        `the WAL lock file ${this.path} was removed or replaced and could not be locked again; stop writing to ` +
          this.dir,
        e,
      );
    }
  }

  /** The lock file's descriptor, just locked. */
  #heldFile(fd: number, id: Identity, procRoot: string): HeldDescriptor {
    return new HeldDescriptor(fd, id, `the WAL lock file ${this.path}`, this.path, procRoot);
  }

  /**
   * The loss when a held fd is no longer ours: other code in this process closed it, and the kernel dropped its lock
   * with it; the number is free now or already another file's. Such an fd is forgotten by its
   * {@link HeldDescriptor.check}, so neither `release()` nor anything else here unlocks or closes that number again.
   * The file is checked first; the directory only when the file is still ours.
   */
  #descriptorLost(): WalError | null {
    for (const held of this.#dir === null ? [this.#file] : [this.#file, this.#dir]) {
      const how = held.check();
      if (how !== "ours") return this.#descriptorError(held, how);
    }
    return null;
  }

  #descriptorError({ what, fd }: HeldDescriptor, how: Exclude<Ownership, "ours">): WalError {
    if (typeof how !== "string") {
      return this.#lostError(
        `cannot check the descriptor of ${what} (fd ${fd}); stop writing to ${this.dir}`,
        how.error,
      );
    }
    const reused =
      how === "reused"
        ? " and its number reused for another file"
        : how === "reopened"
          ? " and its number opened again on the same file (a new open, without the lock)"
          : "";
    return this.#lostError(
      `the descriptor of ${what} (fd ${fd}) was closed by other code in this process${reused}, which released ` +
        `its lock; stop writing to ${this.dir}`,
    );
  }

  #lostError(message: string, cause?: unknown): WalError {
    const reason = cause instanceof Error ? `: ${cause.message}` : "";
    return new WalError("WAL_LOCK_LOST", `${message}${reason}`, {
      ...(cause === undefined ? {} : { cause }),
      details: { path: this.dir },
    });
  }

  #markLost(error: WalError): void {
    this.#lost = error;
    clearInterval(this.#timer);
    this.#timer = undefined;
    const listeners = [...this.#listeners];
    this.#listeners.clear();
    for (const listener of listeners) {
      try {
        listener(error);
      } catch (e) {
        queueMicrotask(() => {
          throw e;
        });
      }
    }
  }

  async #close(): Promise<void> {
    clearInterval(this.#timer);
    this.#timer = undefined;
    this.#listeners.clear();
    // An fd that other code closed (its number maybe another file's now) is left alone by its release: unlocking or
    // closing it would act on someone else's file. Its lock went with it. The file goes first, then the directory
    // (the reverse of taking them), the directory's even when the file's close failed; the first failure is thrown.
    const closeFailed = (held: HeldDescriptor, e: unknown) =>
      ioError(`cannot close ${held.what}`, held.path, "close", e);
    let failure: unknown;
    try {
      await this.#file.release((fd) => this.#binding.unlock(fd));
    } catch (e) {
      failure = closeFailed(this.#file, e);
    }
    if (this.#dir !== null) {
      try {
        await this.#dir.release();
      } catch (e) {
        failure ??= closeFailed(this.#dir, e);
      }
    }
    if (failure !== undefined) throw failure;
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Helpers

function loadBinding(path: string): LockBinding {
  try {
    return lockBinding();
  } catch (e) {
    throw ioError(`cannot load the native file-locking functions (koffi) for ${path}`, path, "dlopen", e);
  }
}

function tryLock(binding: LockBinding, fd: number, path: string): "locked" | "contended" {
  try {
    return binding.tryLock(fd);
  } catch (e) {
    throw ioError(`cannot lock the WAL lock file ${path}`, path, (e as NodeJS.ErrnoException).syscall ?? "flock", e);
  }
}

/** `null` when nothing is at `path`. */
function statPath(path: string): BigIntStats | null {
  try {
    return statSync(path, { bigint: true, throwIfNoEntry: false }) ?? null;
  } catch (e) {
    throw ioError(`cannot stat ${path}`, path, "stat", e);
  }
}

function fstatFd(fd: number, path: string): BigIntStats {
  try {
    return fstatSync(fd, { bigint: true });
  } catch (e) {
    throw ioError(`cannot stat ${path}`, path, "fstat", e);
  }
}

/** The lock path must be a regular file: a directory or a FIFO there is an operator error, never a free lock. */
function assertRegularFile(s: BigIntStats, path: string): void {
  if (s.isFile()) return;
  const kind = s.isDirectory()
    ? "a directory"
    : s.isFIFO()
      ? "a FIFO"
      : s.isSocket()
        ? "a socket"
        : s.isCharacterDevice() || s.isBlockDevice()
          ? "a device"
          : "not a regular file";
  throw new WalError("WAL_IO", `the WAL lock file ${path} is ${kind}, not a regular file`, {
    details: { path, syscall: "fstat", ...(s.isDirectory() ? { errno: "EISDIR" } : {}) },
  });
}

function removedFileHeld(dir: string, path: string, pid: number): WalError {
  const who = pid === process.pid ? `this process (${pid})` : `process ${pid}`;
  return new WalError(
    "WAL_LOCKED",
    `WAL directory is still open by ${who}: its lock file ${path} was removed while ${who} still holds it. ` +
      `Stop that process (or let it close the directory); never delete ${LOCK_FILE_NAME} to clear a lock, the ` +
      `kernel releases it when its holder exits: ${dir}`,
    { details: { path: dir } },
  );
}

function ioError(message: string, path: string, syscall: string, cause: unknown): WalError {
  // Not errnoOf: this is where details.errno is made, from the Node (or flock) error itself, never from a cause of it.
  const code = (cause as NodeJS.ErrnoException | undefined)?.code;
  const reason = cause instanceof Error ? `: ${cause.message}` : "";
  return new WalError("WAL_IO", `${message}${reason}`, {
    cause,
    details: { path, syscall, ...(typeof code === "string" ? { errno: code } : {}) },
  });
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
