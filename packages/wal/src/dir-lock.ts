/**
 * The WAL directory lock: an exclusive advisory lock on `<dir>/.lora-wal.lock`, the same kernel lock LoraDB takes
 * (`flock` on unix, `LockFileEx` on Windows; see `flock.ts`), so a LoraDB process and an `@lora/wal` handle exclude
 * each other, and so do two handles in one process.
 *
 * The lock file is opened read+write, created if missing, never truncated, never written and never deleted. The
 * lock lives as long as the fd: `release()` closes it, and the kernel releases it when the process dies, so a
 * SIGKILLed writer never leaves a stale lock behind.
 *
 * Retry policy (LoraDB >= 0.11): while contended, back off 100 µs doubling to a 5 ms cap; elapsed time is checked
 * after each failed attempt and once it is >= the budget (100 ms) the result is `WAL_LOCKED`. Any other failure is
 * `WAL_IO` at once. Sleeps go through `setTimeout`, whose 1 ms floor stretches the first few back-offs; that only
 * means fewer attempts inside the same budget.
 */

import { close as closeCb, constants as fsConstants, open as openCb } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { WalError } from "@lora/wal-codec";
import { type LockBinding, lockBinding } from "./flock.js";

const open = promisify(openCb);
const close = promisify(closeCb);

/** Name of the lock file inside a WAL directory (LoraDB's name). */
export const LOCK_FILE_NAME = ".lora-wal.lock";

/** Default retry budget, as in LoraDB. */
export const DEFAULT_LOCK_RETRY_BUDGET_MS = 100;

const INITIAL_BACKOFF_US = 100;
const MAX_BACKOFF_US = 5_000;

export interface AcquireDirLockOptions {
  /** How long to keep retrying a contended lock before `WAL_LOCKED`. Default 100; 0 means a single attempt. */
  readonly retryBudgetMs?: number;
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
   * Releases the lock by closing its fd; the file stays. Idempotent; concurrent calls share one close.
   * @throws {@link WalError} `WAL_IO` when closing the fd fails.
   */
  release(): Promise<void>;
}

/**
 * Takes the exclusive lock on `<dir>/.lora-wal.lock`, creating the file (not the directory) if needed.
 *
 * @throws WalError `WAL_LOCKED` when another handle (any process, including this one) still holds it after the
 *   retry budget; `WAL_IO` for any other failure (e.g. the directory does not exist); `WAL_INVALID_OPTION`.
 */
export async function acquireDirLock(dir: string, options: AcquireDirLockOptions = {}): Promise<DirLock> {
  const budgetMs = options.retryBudgetMs ?? DEFAULT_LOCK_RETRY_BUDGET_MS;
  if (typeof budgetMs !== "number" || !(budgetMs >= 0) || budgetMs === Number.POSITIVE_INFINITY) {
    throw new WalError("WAL_INVALID_OPTION", `retryBudgetMs must be a finite number >= 0, got ${String(budgetMs)}`);
  }
  const path = join(dir, LOCK_FILE_NAME);
  const binding = loadBinding(path);

  let fd: number;
  try {
    // O_CREAT without O_TRUNC: create if missing, never truncate. Mode 0o666 minus umask, as Rust's default.
    fd = await open(path, fsConstants.O_RDWR | fsConstants.O_CREAT, 0o666);
  } catch (e) {
    throw ioError(`cannot open the WAL lock file ${path}`, path, "open", e);
  }

  try {
    const start = performance.now();
    let backoffUs = INITIAL_BACKOFF_US;
    for (;;) {
      if (tryLock(binding, fd, path) === "locked") return new HeldDirLock(dir, path, fd, binding);
      if (performance.now() - start >= budgetMs) {
        throw new WalError("WAL_LOCKED", `WAL directory is already open by another live handle: ${dir}`, {
          details: { path: dir },
        });
      }
      await sleep(backoffUs / 1000);
      backoffUs = Math.min(backoffUs * 2, MAX_BACKOFF_US);
    }
  } catch (e) {
    await close(fd).catch(() => {});
    throw e;
  }
}

/**
 * Whether `<dir>` is locked right now, without changing a byte: opens an existing lock file read-only (never
 * creates it), makes one non-blocking attempt and releases at once. For read-only tools such as `inspect`.
 *
 * The answer is a snapshot. While the probe holds the lock (microseconds), a writer opening the directory sees
 * contention and simply retries within its budget.
 *
 * @returns `"missing"` when the directory or its lock file does not exist (no writer has ever opened it, or it
 *   is not a WAL directory); `"held"` when another handle holds the lock; `"free"` otherwise.
 * @throws WalError `WAL_IO` for any other failure.
 */
export async function probeDirLock(dir: string): Promise<"free" | "held" | "missing"> {
  const path = join(dir, LOCK_FILE_NAME);
  const binding = loadBinding(path);
  let fd: number;
  try {
    fd = await open(path, fsConstants.O_RDONLY); // flock and LockFileEx both work on read-only descriptors
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return "missing";
    throw ioError(`cannot open the WAL lock file ${path}`, path, "open", e);
  }
  try {
    if (tryLock(binding, fd, path) === "contended") return "held";
    binding.unlock(fd);
    return "free";
  } finally {
    await close(fd).catch(() => {});
  }
}

class HeldDirLock implements DirLock {
  readonly dir: string;
  readonly path: string;
  readonly #binding: LockBinding;
  /** Kept open for as long as the lock is held: the lock belongs to this fd's open file description. */
  #fd: number;
  #released: Promise<void> | undefined;

  constructor(dir: string, path: string, fd: number, binding: LockBinding) {
    this.dir = dir;
    this.path = path;
    this.#fd = fd;
    this.#binding = binding;
  }

  get held(): boolean {
    return this.#released === undefined;
  }

  release(): Promise<void> {
    this.#released ??= this.#close();
    return this.#released;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.release();
  }

  async #close(): Promise<void> {
    const fd = this.#fd;
    this.#fd = -1;
    try {
      this.#binding.unlock(fd);
    } catch {
      // Closing the fd below releases the lock anyway (at once on unix; eventually on Windows).
    }
    try {
      await close(fd);
    } catch (e) {
      throw ioError(`cannot close the WAL lock file ${this.path}`, this.path, "close", e);
    }
  }
}

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

function ioError(message: string, path: string, syscall: string, cause: unknown): WalError {
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
