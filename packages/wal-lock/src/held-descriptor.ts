/**
 * A descriptor a held lock keeps open (the lock file's, the directory's): the kernel lock belongs to its open file
 * description, so the lock is held exactly as long as that description stays open behind the number. Other code in
 * this process can close the number (the kernel drops the lock with it) and open something else into it, even the
 * same file again; {@link HeldDescriptor.check} tells those apart from the descriptor we locked, and once it has found
 * the number is not ours any more, {@link HeldDescriptor.release} never unlocks or closes it (it may be someone
 * else's file by then).
 */

import { type BigIntStats, close as closeCb, closeSync, fstatSync, openSync, readSync } from "node:fs";
import { promisify } from "node:util";
import { errnoOf } from "@lora/wal-codec";

const close = promisify(closeCb);

/** Device and inode: what makes "the same file". */
export interface Identity {
  readonly dev: bigint;
  readonly ino: bigint;
}

/** The device and inode of `s`, without the rest of the stat. */
export function identity(s: Identity): Identity {
  return { dev: s.dev, ino: s.ino };
}

/** Whether `a` is there and is the file `b` names. */
export function sameIdentity(a: Identity | null, b: Identity): boolean {
  return a !== null && a.dev === b.dev && a.ino === b.ino;
}

/**
 * What a held number is now: `"ours"`, still the open file description we locked (as far as can be told);
 * `"closed"`, not open (EBADF), or already found gone or released here; `"reused"`, open on another file;
 * `"reopened"`, open on the same file but its description holds no exclusive lock (a new open, not ours);
 * `{ error }`, `fstat` failed otherwise, which says nothing: the number may still be ours.
 */
export type Ownership = "ours" | "closed" | "reused" | "reopened" | { readonly error: unknown };

/**
 * One locked descriptor and what it takes to tell that its number is still ours: the number, the identity of the
 * file it was locked on, and the fdinfo directory when that can be trusted to show the lock (see
 * {@link HeldDescriptor.check}).
 */
export class HeldDescriptor {
  /** The number as it was locked; it stays here for messages after the number is forgotten. */
  readonly fd: number;
  /** The identity (`fstat`) of what `fd` was locked on. */
  readonly id: Identity;
  /** What the descriptor is of, for messages: `the WAL lock file <path>`. */
  readonly what: string;
  /** The path of what the descriptor is of, for error details. */
  readonly path: string;
  /**
   * `<procRoot>/self/fdinfo/` when it showed the lock of `fd` just after it was taken (so it can be trusted to show
   * it), else null: see {@link fdLockShown}.
   */
  readonly #fdinfo: string | null;
  /** False once the number was found not ours, or released: it is never unlocked or closed here again. */
  #held = true;

  /**
   * Call it just after the exclusive lock on `fd` was taken: that is when fdinfo is asked whether it shows the lock,
   * and only an fdinfo that did is trusted to say later that the lock is gone.
   */
  constructor(fd: number, id: Identity, what: string, path: string, procRoot: string) {
    this.fd = fd;
    this.id = identity(id);
    this.what = what;
    this.path = path;
    this.#fdinfo = fdinfoFor(procRoot, fd);
  }

  /**
   * Whether the number is still our open file description holding our lock: `fstat` of the number against
   * {@link HeldDescriptor.id}, then, where fdinfo was trusted at acquisition, whether its description still holds an
   * exclusive lock. Only an fdinfo that answers "no lock" makes `"reopened"`: one that cannot be read says nothing,
   * and an untrusted one is not read (identity only). A number found `"closed"`, `"reused"` or `"reopened"` is
   * forgotten: from then on this answers `"closed"` and {@link HeldDescriptor.release} leaves it alone. An `{ error }`
   * keeps it (to be closed at release).
   */
  check(): Ownership {
    if (!this.#held) return "closed";
    const how = ownership(this.fd, this.id, this.#fdinfo);
    if (typeof how === "string" && how !== "ours") this.#held = false;
    return how;
  }

  /**
   * Closes the number if {@link HeldDescriptor.check} finds it still ours (or cannot tell), calling `unlock` on it
   * first when given (a failed unlock is ignored: closing releases the lock anyway, at once on unix), and forgets it.
   * A number found not ours is left alone. Idempotent: a second call does nothing.
   * @throws what `close` throws; the number is forgotten all the same.
   */
  async release(unlock?: (fd: number) => void): Promise<void> {
    this.check();
    if (!this.#held) return;
    this.#held = false;
    if (unlock !== undefined) {
      try {
        unlock(this.fd);
      } catch {
        // Closing the fd below releases the lock anyway (at once on unix; eventually on Windows).
      }
    }
    await close(this.fd);
  }
}

function ownership(fd: number, id: Identity, fdinfo: string | null): Ownership {
  let s: BigIntStats;
  try {
    s = fstatSync(fd, { bigint: true });
  } catch (error) {
    return errnoOf(error) === "EBADF" ? "closed" : { error };
  }
  if (!sameIdentity(s, id)) return "reused";
  return fdinfo !== null && fdLockShown(fdinfo, fd) === false ? "reopened" : "ours";
}

/**
 * `<procRoot>/self/fdinfo/` when it shows the exclusive lock `fd` holds right now (call it only then: just after the
 * lock was taken), else null (not Linux, no procfs there, or a kernel before 4.1 that lists no locks in fdinfo). Only
 * a fdinfo that showed our lock is trusted to tell later that the lock is gone: one that never lists locks would
 * make every held lock look lost.
 */
function fdinfoFor(procRoot: string, fd: number): string | null {
  if (process.platform !== "linux") return null;
  const fdinfo = `${procRoot}/self/fdinfo/`;
  return fdLockShown(fdinfo, fd) === true ? fdinfo : null;
}

/** Reused by every fdinfo read: the file is a few lines (one `lock:` line per lock of the open file description). */
const fdinfoBuffer = Buffer.alloc(4096);

// "lock:\t1: FLOCK  ADVISORY  WRITE 3512 fe:00:2146562 0 EOF" (a POSIX lock where NFS emulates flock with one).
const FDINFO_WRITE_LOCK = /^lock:\s.*\sWRITE\s/m;

/**
 * Whether `<fdinfo><fd>` lists an exclusive lock. Linux lists there only the locks whose open file description is
 * the one behind `fd` (for `flock`, the description that took it), so `false` means that description holds none:
 * not the one we locked, whose lock the kernel keeps until it is closed. `null` when it cannot be read (no procfs,
 * the number closed meanwhile) or does not fit the buffer without showing one.
 */
function fdLockShown(fdinfo: string, fd: number): boolean | null {
  let info: number;
  try {
    info = openSync(`${fdinfo}${fd}`, "r");
  } catch {
    return null;
  }
  try {
    // procfs hands the whole file to the first read that has room for it, so a held lock costs one read; "no lock"
    // is said only at the end of the file.
    let length = 0;
    while (length < fdinfoBuffer.length) {
      const n = readSync(info, fdinfoBuffer, length, fdinfoBuffer.length - length, null);
      if (n === 0) return false;
      length += n;
      if (FDINFO_WRITE_LOCK.test(fdinfoBuffer.toString("latin1", 0, length))) return true;
    }
    return null;
  } catch {
    return null;
  } finally {
    try {
      closeSync(info);
    } catch {
      // a procfs file: nothing was written through it
    }
  }
}
