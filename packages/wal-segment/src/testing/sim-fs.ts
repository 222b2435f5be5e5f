/**
 * SimFS: an in-memory {@link WalFileSystem} that remembers what was made durable and can list every state a
 * power loss could leave behind (its crash images), with fault injection, counters and an operation hook for
 * crash-testing harnesses.
 */

// SimFS implements the asynchronous seam synchronously. Its methods stay `async` on purpose: a throw then becomes a
// rejection, exactly as the Node seam reports errors, and callers cannot tell the two apart.
/* eslint-disable @typescript-eslint/require-await */

import { posix } from "node:path";
import { optionOr, shownValue, WalError } from "@lora/wal-codec";
import type { FileStat, OpenMode, WalFile, WalFileSystem } from "../fs/file-system.js";
import { type CrashImageOptions, crashImages, durableImage } from "../internal/crash-images.js";
import { checkReadArguments, checkTruncateLength, checkWriteArguments } from "../internal/io-arguments.js";
import {
  fail,
  type Inode,
  normalizePath,
  type SimFaultHandle,
  type SimFaultSpec,
  type SimOp,
  type SimOperationEvent,
  SimState,
  type SimStats,
} from "../internal/sim-state.js";

/** The open modes of the seam (`OpenMode`). */
const OPEN_MODES: ReadonlySet<unknown> = new Set<OpenMode>(["read", "readWrite", "createExclusive", "openOrCreate"]);

export type { CrashImageOptions } from "../internal/crash-images.js";
export type {
  SimErrno,
  SimFaultHandle,
  SimFaultSpec,
  SimOp,
  SimOperationEvent,
  SimStats,
} from "../internal/sim-state.js";

/** One state a power loss at this moment could leave. */
export interface CrashImage {
  /** Which choice was made per file and directory, e.g. `/w/1.wal: kept first 1/3 unsynced ops; dir /w: ...`. */
  readonly description: string;
  /** A fresh SimFS holding that state, fully durable, with nothing unsynced, no faults and no locks. */
  readonly fs: SimFS;
}

/**
 * A file's identity: its inode's id, which no other file of the same SimFS ever takes (ids are never reused, and a
 * crash image or a clone keeps each file's). A rename or a link keeps the inode, so the identity.
 */
function fileIdentity(inode: Inode): string {
  return `sim:${inode.id}`;
}

class SimFile implements WalFile {
  readonly path: string;
  readonly #state: SimState;
  readonly #inode: Inode;
  readonly #writable: boolean;
  #closed = false;

  constructor(state: SimState, path: string, inode: Inode, writable: boolean) {
    this.#state = state;
    this.path = path;
    this.#inode = inode;
    this.#writable = writable;
  }

  #check(op: SimOp, syscall: string, needsWrite = false): void {
    if (this.#closed) fail("EBADF", syscall, this.path);
    const fault = this.#state.fault(op, this.path);
    if (fault !== undefined) fail(fault.errno, syscall, this.path);
    // Linux reports EBADF for a write and EINVAL for ftruncate on a descriptor not open for writing.
    if (needsWrite && !this.#writable) fail(syscall === "write" ? "EBADF" : "EINVAL", syscall, this.path);
  }

  async read(buffer: Uint8Array, offset: number, length: number, position: number): Promise<number> {
    return this.readSync(buffer, offset, length, position);
  }

  readSync(buffer: Uint8Array, offset: number, length: number, position: number): number {
    checkReadArguments(this.path, buffer, offset, length, position);
    this.#state.stats.reads++;
    this.#check("read", "read");
    const n = this.#inode.data.read(buffer, offset, length, position);
    this.#state.stats.bytesRead += n;
    return n;
  }

  async write(data: Uint8Array, position: number): Promise<void> {
    this.writeSync(data, position);
  }

  writeSync(data: Uint8Array, position: number): void {
    checkWriteArguments(this.path, data, position);
    const state = this.#state;
    state.stats.writes++;
    if (this.#closed) fail("EBADF", "write", this.path);
    if (!this.#writable) fail("EBADF", "write", this.path);
    const fault = state.fault("write", this.path);
    if (fault !== undefined) {
      // A failing write may land a prefix first (a short write followed by ENOSPC/EIO).
      const partial = Math.min(Math.max(0, fault.partialBytes ?? 0), data.byteLength);
      if (partial > 0) state.write(this.#inode, data.subarray(0, partial), position);
      state.emit("write", this.path, true);
      fail(fault.errno, "write", this.path);
    }
    if (data.byteLength > 0) state.write(this.#inode, data, position);
    state.emit("write", this.path, false);
  }

  async datasync(): Promise<void> {
    this.datasyncSync();
  }

  datasyncSync(): void {
    this.#state.stats.datasyncs++;
    this.#sync("datasync", "fdatasync");
  }

  async sync(): Promise<void> {
    this.#state.stats.syncs++;
    this.#sync("sync", "fsync");
  }

  #sync(op: "datasync" | "sync", syscall: string): void {
    const state = this.#state;
    if (this.#closed) fail("EBADF", syscall, this.path);
    const fault = state.fault(op, this.path);
    if (fault !== undefined) {
      state.dropPending(this.#inode);
      state.emit(op, this.path, true);
      fail(fault.errno, syscall, this.path);
    }
    state.sync(this.#inode);
    state.emit(op, this.path, false);
  }

  async truncate(length: number): Promise<void> {
    checkTruncateLength(length);
    this.#state.stats.truncates++;
    try {
      this.#check("truncate", "ftruncate", true);
    } catch (e) {
      this.#state.emit("truncate", this.path, true);
      throw e;
    }
    this.#state.truncate(this.#inode, length);
    this.#state.emit("truncate", this.path, false);
  }

  async size(): Promise<number> {
    return this.sizeSync();
  }

  sizeSync(): number {
    this.#state.stats.sizes++;
    this.#check("size", "fstat");
    return this.#inode.data.size;
  }

  async identity(): Promise<string> {
    // An fstat, as `size` is: faults injected for "size" fail it too.
    this.#check("size", "fstat");
    return fileIdentity(this.#inode);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#state.stats.closes++;
    this.#closed = true;
    // close(2) releases the descriptor even when it reports an error (EIO on some file systems): the handle is gone
    // either way, and the fault is what the caller hears.
    const fault = this.#state.fault("close", this.path);
    if (fault !== undefined) fail(fault.errno, "close", this.path);
  }
}

/**
 * An in-memory, deterministic, crash-simulating implementation of the file-system seam.
 *
 * @remarks
 * Model (stricter than POSIX on purpose; docs/crash-testing.md, 'Fault model'):
 * - Each file (inode) has volatile bytes (what reads see) and durable bytes (what survives power loss), plus the
 *   ordered writes and truncates since its last sync. `datasync`/`sync` make them durable (a truncate's size change
 *   included). They do NOT make the file's directory entry durable. Until then a power loss may land them out of
 *   order: a truncate lost behind later writes, or landed ahead of earlier ones. A truncate that shrinks the file to
 *   a length inside a block zeroes the rest of that block first (as ext4 and xfs do in the page cache), and
 *   that zeroing may land while the size change is lost: the file keeps its length, zeros from the cut to the
 *   block's end (blocks of 4 KiB, 1 KiB or 64 KiB), and the writes since the truncate before it may be lost then
 *   (the sector the cut lies in lands whole, with their bytes).
 * - Each directory has volatile and durable entries. Creating, renaming, linking and unlinking a file are volatile
 *   until `syncDir` of the directory. A rename across directories is an independent create + unlink, one per directory.
 * - A subdirectory is an entry of its parent like a file: each directory `mkdirp` creates (every missing level) is
 *   volatile until `syncDir` of its own parent, and so is `rmdir` of an empty directory. A directory lost at a crash
 *   takes everything under it along, however durable; one whose removal is lost comes back with what it durably
 *   held. Directories cannot be renamed or unlinked.
 * - The conveniences {@link SimFS.withDir}, {@link SimFS.mkdirpSync} and {@link SimFS.writeFileSync} make the
 *   directories they name durable at once: they model directories that existed before the code under test ran.
 * - A failed `datasync`/`sync` (any injected errno) has PostgreSQL fsyncgate semantics: the file's unsynced
 *   operations are dropped from what can ever become durable, reads still show them, the next sync succeeds.
 * - Paths are posix: normalised with `path.posix.resolve("/", p)`, backslashes treated as `/`.
 * - Errors are exactly the Node seam's: `WalError` `WAL_IO` with a Node-shaped errno error as `cause`.
 * - Each file has an identity (`stat`'s `identity`, `WalFile.identity()`: `"sim:<n>"`), kept by a rename or a link
 *   and never taken by another file; a file created at a path gets a new one. Directories report none.
 * - No clock, no `Math.random`: everything is reproducible; sampling uses a seeded PRNG.
 *
 * @example
 * ```ts
 * const sim = new SimFS();
 * await runWorkload(sim);
 * for (const { description, fs } of sim.crashImages({ maxImages: 64, seed: 7 })) {
 *   await checkRecovery(fs, description);
 * }
 * ```
 */
export class SimFS implements WalFileSystem {
  readonly name = "sim";
  #state: SimState = new SimState();

  /**
   * A SimFS holding the directory `path` (and its parents), made as {@link SimFS.mkdirpSync} makes them: durable,
   * as directories that existed before the code under test ran (no crash image loses them).
   */
  static withDir(path: string): SimFS {
    const fs = new SimFS();
    fs.mkdirpSync(path);
    return fs;
  }

  static #wrap(state: SimState): SimFS {
    const fs = new SimFS();
    fs.#state = state;
    return fs;
  }

  /** Counters since creation (calls, including failed ones; bytes that landed or were read). Live object. */
  get stats(): Readonly<SimStats> {
    return this.#state.stats;
  }

  /** The index of the last mutating operation (the `seq` of the last {@link SimFS.onOperation} event; 0 at first). */
  get seq(): number {
    return this.#state.seq;
  }

  // WalFileSystem ----------------------------------------------------------------------------------------------

  async open(path: string, mode: OpenMode): Promise<WalFile> {
    // As the Node seam: a mode it does not know is the caller's mistake, refused before the file system is touched.
    if (!OPEN_MODES.has(mode)) throw new WalError("WAL_INVALID_ARGUMENT", `unknown open mode ${shownValue(mode)}`);
    const state = this.#state;
    const p = normalizePath(path);
    const fault = state.fault("open", p);
    if (fault !== undefined) fail(fault.errno, "open", p);
    const found = state.lookup(p, "open");
    if (found === "dir") fail(mode === "createExclusive" ? "EEXIST" : "EISDIR", "open", p);
    // Counted once a handle exists: a failed open leaves nothing to close.
    if (found !== undefined) {
      if (mode === "createExclusive") fail("EEXIST", "open", p);
      state.stats.opens++;
      return new SimFile(state, p, found, mode !== "read");
    }
    if (mode === "read" || mode === "readWrite") fail("ENOENT", "open", p);
    const dir = state.parentOf(p, "open");
    const inode = state.newInode();
    const name = posix.basename(p);
    dir.entries.set(name, inode);
    dir.pending.push({ kind: "create", name, inode });
    state.emit("open", p, false);
    state.stats.opens++;
    return new SimFile(state, p, inode, true);
  }

  async mkdirp(path: string): Promise<void> {
    const state = this.#state;
    const p = normalizePath(path);
    state.stats.mkdirs++;
    const fault = state.fault("mkdirp", p);
    if (fault !== undefined) fail(fault.errno, "mkdir", p);
    if (state.addDir(p)) state.emit("mkdirp", p, false);
  }

  async rmdir(path: string): Promise<void> {
    const state = this.#state;
    const p = normalizePath(path);
    state.stats.rmdirs++;
    const fault = state.fault("rmdir", p);
    if (fault !== undefined) fail(fault.errno, "rmdir", p);
    state.removeDir(p, "rmdir");
    state.emit("rmdir", p, false);
  }

  async readdir(path: string): Promise<string[]> {
    const state = this.#state;
    const p = normalizePath(path);
    state.stats.readdirs++;
    const fault = state.fault("readdir", p);
    if (fault !== undefined) fail(fault.errno, "scandir", p);
    return this.#list(p, "scandir");
  }

  async stat(path: string): Promise<FileStat | null> {
    const state = this.#state;
    const p = normalizePath(path);
    state.stats.stats++;
    const fault = state.fault("stat", p);
    if (fault !== undefined) fail(fault.errno, "stat", p);
    let found: Inode | "dir" | undefined;
    try {
      found = state.lookup(p, "stat");
    } catch {
      return null; // ENOTDIR: a file on the way, so the path does not exist (as the Node seam reports it)
    }
    if (found === undefined) return null;
    if (found === "dir") return { size: 0, isFile: false, isDirectory: true };
    return { size: found.data.size, isFile: true, isDirectory: false, identity: fileIdentity(found) };
  }

  async rename(from: string, to: string): Promise<void> {
    const state = this.#state;
    const src = normalizePath(from);
    const dst = normalizePath(to);
    state.stats.renames++;
    const fault = state.fault("rename", src, dst);
    if (fault !== undefined) fail(fault.errno, "rename", src);
    const found = state.lookup(src, "rename");
    if (found === undefined) fail("ENOENT", "rename", src);
    if (found === "dir") fail("EISDIR", "rename", src); // limitation: directories cannot be renamed in SimFS
    if (state.dirs.has(dst)) fail("EISDIR", "rename", src);
    const dstDir = state.parentOf(dst, "rename");
    const toName = posix.basename(dst);
    // POSIX rename(2): when both names are links to the same file, nothing is done (both names stay).
    if (src === dst || dstDir.entries.get(toName) === found) return;
    const srcDir = state.parentOf(src, "rename");
    const fromName = posix.basename(src);
    srcDir.entries.delete(fromName);
    dstDir.entries.set(toName, found);
    if (srcDir === dstDir) {
      srcDir.pending.push({ kind: "rename", from: fromName, to: toName, inode: found });
    } else {
      srcDir.pending.push({ kind: "unlink", name: fromName, note: `renamed to ${dst}` });
      dstDir.pending.push({ kind: "create", name: toName, inode: found, note: `renamed from ${src}` });
    }
    state.emit("rename", src, false, dst);
  }

  async unlink(path: string): Promise<void> {
    const state = this.#state;
    const p = normalizePath(path);
    state.stats.unlinks++;
    const fault = state.fault("unlink", p);
    if (fault !== undefined) fail(fault.errno, "unlink", p);
    const found = state.lookup(p, "unlink");
    if (found === undefined) fail("ENOENT", "unlink", p);
    if (found === "dir") fail("EISDIR", "unlink", p);
    const dir = state.parentOf(p, "unlink");
    const name = posix.basename(p);
    dir.entries.delete(name);
    dir.pending.push({ kind: "unlink", name });
    state.emit("unlink", p, false);
  }

  /**
   * A hard link: `newPath` names the inode `existing` names, an entry creation of its directory (volatile until its
   * `syncDir`, as a created file's entry is; the file's bytes are the inode's, durable or not as they are). `EEXIST`
   * when `newPath` exists, `ENOENT` when `existing` does not, `EPERM` for a directory (as Linux answers).
   */
  async link(existing: string, newPath: string): Promise<void> {
    const state = this.#state;
    const src = normalizePath(existing);
    const dst = normalizePath(newPath);
    state.stats.links++;
    const fault = state.fault("link", src, dst);
    if (fault !== undefined) fail(fault.errno, "link", dst);
    const found = state.lookup(src, "link");
    if (found === undefined) fail("ENOENT", "link", src);
    if (found === "dir") fail("EPERM", "link", src);
    const dstDir = state.parentOf(dst, "link");
    if (state.lookup(dst, "link") !== undefined) fail("EEXIST", "link", dst);
    const name = posix.basename(dst);
    dstDir.entries.set(name, found);
    dstDir.pending.push({ kind: "create", name, inode: found, note: `linked from ${src}` });
    state.emit("link", src, false, dst);
  }

  async syncDir(path: string): Promise<void> {
    const state = this.#state;
    const p = normalizePath(path);
    state.stats.dirSyncs++;
    const fault = state.fault("syncDir", p);
    if (fault !== undefined) {
      state.emit("syncDir", p, true);
      fail(fault.errno, "fsync", p);
    }
    const found = state.lookup(p, "open");
    if (found === undefined) fail("ENOENT", "open", p);
    if (found === "dir") {
      const dir = state.dirs.get(p);
      if (dir !== undefined) state.syncEntries(dir);
    } else {
      state.sync(found); // fsync of a file opened read-only, as the Node seam would do
    }
    state.emit("syncDir", p, false);
  }

  // Crash images -----------------------------------------------------------------------------------------------

  /**
   * Every state a power loss right now could leave, as fresh SimFS instances (volatile == durable, nothing
   * unsynced). The current state is captured when this is called, so the SimFS may change while iterating.
   *
   * @remarks
   * Per file with unsynced operations (writes, truncates) the choices are: all dropped, all kept, the first k
   * kept (each k), or the first k kept plus operation k+1 torn: that write lands on a subset of the 512-byte
   * sectors it covers (sectors are atomic; every sector-aligned prefix, plus every other subset when it covers at
   * most 4 sectors, else the one that loses the first sector alone and `tornSamples` seeded subsets), or the first k kept plus one later write that landed out
   * of order, the writes between lost (a page cache writes pages back in any order; the hole reads as zeros when
   * it lies past the old end; all such choices, or `reorderSamples` seeded ones; a write never moves across a
   * truncate), or one truncate out of order with the writes between it and the truncates before and after it
   * (truncates keep their order among themselves): lost while writes after it landed (the file keeps its length,
   * the bytes past the cut with the new bytes over them), or landed while writes before it were lost (all such
   * choices, or `reorderSamples` seeded ones; a size change is metadata the journal commits on its own schedule
   * until an fsync or fdatasync of the file covers it; one that leaves the state of another choice is left out),
   * or a truncate that shrinks the file to a length inside a block lost after zeroing that block from the cut
   * (the file keeps its length, zeros from the cut to the block's end or the old end, the bytes past the block
   * still there; blocks of 4 KiB, 1 KiB or 64 KiB; the ops before it kept, or the writes since the truncate before
   * it lost from any one on, the sector the cut lies in landing with their bytes; alone or with the writes after it
   * up to the next truncate; a zeroing that leaves the state of another choice is left out). Those at 4 KiB blocks
   * with every op before kept have a budget of their own: all of them, or `reorderSamples` seeded ones, the newest
   * such truncate lost alone and lost behind every write after it always among them; the others (1 KiB and 64 KiB
   * blocks, or earlier writes lost) up to `reorderSamples` more: all of them, or seeded ones. Or two or more truncates
   * lost together (truncates land in order, so the newest ones since the last sync), the writes up to the next
   * truncate landed, with no zeroing, the newest lost cut's 4 KiB block zeroed, or each one's: up to
   * `reorderSamples` of them, shown on top of `maxImages` (below).
   * Data lost to a failed sync (fsyncgate) never appears.
   * Per directory with unsynced entry operations (create, unlink, rename, mkdir, rmdir): each operation is kept or
   * lost (every subset up to 8 operations; beyond that, prefixes, each one alone kept or lost, and `dirSamples`
   * seeded subsets). A rename is atomic within its directory. A directory whose entry is lost is not in the image,
   * nor is anything under it (files durable in it included); one whose `rmdir` is lost is, with its durable entries
   * and its own choices. Where operations kept out of order leave a file and a directory under one name, the
   * directory wins.
   *
   * The choices combine as a product (all but the truncates lost together). When it has at most `maxImages` elements
   * all are listed, else `maxImages` distinct ones are sampled from `seed`
   * (at most that many: a sample whose state an earlier image left, its other choices being under a lost directory,
   * is skipped). The first image is always "[drop all unsynced]" (file data and
   * entries) and the second "[keep all]" (the volatile state). After them, one image per choice of truncates lost
   * together, and one of each unsynced write that covers more than 4 sectors torn with its first sector lost and its
   * later sectors landed (the ops before it kept, those after it lost), every other file and directory kept whole: so those choices never change which other
   * images are listed, and the tear where a writer's synced pieces meet is never sampled away.
   */
  crashImages(options?: CrashImageOptions): Iterable<CrashImage> {
    const raw = crashImages(this.#state, options);
    return {
      *[Symbol.iterator]() {
        for (const image of raw) yield { description: image.description, fs: SimFS.#wrap(image.state) };
      },
    };
  }

  /**
   * The crash image with every unsynced operation dropped: what a power loss now leaves for certain (directories
   * created since their parent's last `syncDir` included: they are gone, with their files).
   */
  durableImage(): SimFS {
    return SimFS.#wrap(durableImage(this.#state));
  }

  /** An exact copy, unsynced state included (not faults, listeners, locks or counters). */
  clone(): SimFS {
    return SimFS.#wrap(this.#state.clone());
  }

  // Faults and observation -------------------------------------------------------------------------------------

  /**
   * Fail a future operation with `errno`, exactly as the Node seam would report it.
   *
   * @remarks
   * Faults are checked in injection order; `skip` lets that many matching operations pass first. A `write` fault
   * lands `partialBytes` (default 0) then throws. A `datasync`/`sync` fault drops the file's unsynced operations
   * from what can become durable (fsyncgate), whatever the errno. Other faults change nothing.
   */
  injectFault(spec: SimFaultSpec): SimFaultHandle {
    return this.#state.injectFault(spec);
  }

  /** Remove every injected fault. */
  clearFaults(): void {
    this.#state.clearFaults();
  }

  /**
   * Call `cb` synchronously after every mutating operation: `open` that creates, `write`, `truncate`, `datasync`,
   * `sync`, `syncDir`, `rename`, `unlink`, `link`, `mkdirp` that creates, `rmdir`. Failed writes, truncates and syncs are reported
   * too (`failed: true`; they may have changed the state); other failures are not. Returns an unsubscribe
   * function. An exception thrown by `cb` rejects the operation (after it took effect).
   */
  onOperation(cb: (event: SimOperationEvent) => void): () => void {
    return this.#state.onOperation(cb);
  }

  /**
   * An exclusive in-memory lock on `path` for this SimFS instance (the stand-in for `flock`): returns a release
   * function (idempotent), or `null` when already held. Crash images and clones start with no locks held.
   */
  tryLock(path: string): (() => void) | null {
    return this.#state.tryLock(path);
  }

  // Synchronous conveniences for tests and damage injection --------------------------------------------------

  /** A copy of the file's current (volatile) bytes. @throws {@link @lora/wal-codec!WalError} `WAL_IO` (ENOENT, EISDIR). */
  readFileSync(path: string): Uint8Array {
    const p = normalizePath(path);
    const found = this.#state.lookup(p, "open");
    if (found === undefined) fail("ENOENT", "open", p);
    if (found === "dir") fail("EISDIR", "read", p);
    return found.data.toUint8Array();
  }

  /**
   * Replace (or create) a file's content; parent directories are created (or made durable) as
   * {@link SimFS.mkdirpSync} does, whatever `durable` says. With `durable` (the default) the bytes and the directory
   * entry are durable at once, as if fsynced, with no unsynced operations left; without it the change is a volatile
   * truncate + write (and, for a new file, an unsynced directory entry).
   */
  writeFileSync(path: string, bytes: Uint8Array, options: { readonly durable?: boolean } = {}): void {
    const state = this.#state;
    const p = normalizePath(path);
    const durable = optionOr(options.durable, true);
    if (typeof durable !== "boolean") throw new WalError("WAL_INVALID_ARGUMENT", "durable must be a boolean");
    state.addDir(posix.dirname(p), "mkdir", true, true);
    const found = state.lookup(p, "open");
    if (found === "dir") fail("EISDIR", "open", p);
    const dir = state.parentOf(p, "open");
    const name = posix.basename(p);
    let inode = found;
    if (inode === undefined) {
      inode = state.newInode();
      dir.entries.set(name, inode);
      if (!durable) dir.pending.push({ kind: "create", name, inode });
    }
    if (durable) dir.durable.set(name, inode);
    state.setContent(inode, bytes, durable);
  }

  /** Names in a directory (volatile view), sorted. @throws {@link @lora/wal-codec!WalError} `WAL_IO` (ENOENT, ENOTDIR). */
  listSync(path: string): string[] {
    return this.#list(normalizePath(path), "scandir");
  }

  /**
   * `mkdirp`, synchronously and without counting or events, and durable at once: every directory on `path`
   * (created now or already there) becomes a durable entry of its parent, as a directory that existed before the
   * code under test ran. Use {@link SimFS.mkdirp} for a directory that must be made durable by `syncDir`.
   */
  mkdirpSync(path: string): void {
    this.#state.addDir(normalizePath(path), "mkdir", true, true);
  }

  #list(p: string, syscall: string): string[] {
    const dir = this.#state.dirs.get(p);
    if (dir === undefined) {
      const found = this.#state.lookup(p, syscall);
      fail(found === undefined ? "ENOENT" : "ENOTDIR", syscall, p);
    }
    return [...dir.subdirs, ...dir.entries.keys()].sort();
  }
}
