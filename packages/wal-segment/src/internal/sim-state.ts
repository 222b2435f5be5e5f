/**
 * The state and the operations of SimFS (the public facade is `testing/sim-fs.ts`): inodes with volatile and
 * durable bytes plus the unsynced operations between them, directories with volatile and durable entries plus
 * the unsynced entry operations (files and subdirectories alike), fault injection, counters and the operation
 * listener.
 */

import { posix } from "node:path";
import { errnoOf, WalError } from "@lora/wal-codec";
import { errnoError, ioError } from "./io-error.js";
import { PagedBytes } from "./paged-bytes.js";

/** Operation kinds, as named in fault specs, counters and operation events. */
export type SimOp =
  | "open"
  | "read"
  | "write"
  | "datasync"
  | "sync"
  | "syncDir"
  | "truncate"
  | "size"
  | "close"
  | "rename"
  | "unlink"
  | "link"
  | "mkdirp"
  | "rmdir"
  | "readdir"
  | "stat";

/** An errno a fault can raise; any string is accepted, these are the usual ones. */
export type SimErrno =
  | "EIO"
  | "ENOSPC"
  | "EDQUOT"
  | "EROFS"
  | "EACCES"
  | "EPERM"
  | "EBADF"
  | "EINVAL"
  | "ENOENT"
  | "EEXIST"
  | "EMFILE"
  | (string & {});

/** What to fail, when, and how. See `SimFS.injectFault`. */
export interface SimFaultSpec {
  readonly op: SimOp;
  /**
   * Only operations on this path (exact, after normalisation) or matching this RegExp. Rename and link match either
   * side.
   */
  readonly path?: string | RegExp;
  /** Let this many matching operations pass before failing. @default 0 */
  readonly skip?: number;
  readonly errno: SimErrno;
  /** Fail every matching operation from then on instead of once. @default false */
  readonly persistent?: boolean;
  /** For `write`: how many leading bytes land before the failure. @default 0 */
  readonly partialBytes?: number;
}

/** Returned by `injectFault`. */
export interface SimFaultHandle {
  /** Disarm the fault (no-op when it already fired once or was removed). */
  remove(): void;
  /** How many operations it has failed so far. */
  readonly hits: number;
  /** False once removed or, for a once-fault, fired. */
  readonly active: boolean;
}

/** Counters of calls (failed calls included) and of bytes that actually landed or were read. */
export interface SimStats {
  /** Handles opened: unlike the other counters, a failed open is not counted (it leaves nothing to close). */
  opens: number;
  closes: number;
  reads: number;
  bytesRead: number;
  writes: number;
  bytesWritten: number;
  datasyncs: number;
  syncs: number;
  dirSyncs: number;
  truncates: number;
  sizes: number;
  renames: number;
  unlinks: number;
  links: number;
  mkdirs: number;
  rmdirs: number;
  readdirs: number;
  stats: number;
  /** Operations failed by an injected fault. */
  faults: number;
}

/** Reported by `SimFS.onOperation` after a mutating operation. */
export interface SimOperationEvent {
  readonly op: SimOp;
  /** The path operated on (for rename and link, the source). */
  readonly path: string;
  /** For rename and link: the target (the new name). */
  readonly to?: string;
  /** 1, 2, 3, ... per SimFS: the index of this mutation. */
  readonly seq: number;
  /** True when the operation threw (a failed write may still have landed a prefix; a failed sync drops data). */
  readonly failed: boolean;
}

export type PendingOp =
  | { readonly kind: "write"; readonly offset: number; readonly bytes: Uint8Array }
  | { readonly kind: "truncate"; readonly length: number };

export interface Inode {
  readonly id: number;
  /** What the process sees. */
  data: PagedBytes;
  /** What survives power loss. Never written in place (replaced at sync), so images may share it. */
  durable: PagedBytes;
  /** Operations since the last sync, in order; durable + these = what a sync would make durable. */
  pending: PendingOp[];
  /** True after a failed sync dropped pending data: `data` then shows bytes that can never become durable. */
  diverged: boolean;
}

export type DirOp =
  | { readonly kind: "create"; readonly name: string; readonly inode: Inode; readonly note?: string }
  | { readonly kind: "unlink"; readonly name: string; readonly note?: string }
  | { readonly kind: "rename"; readonly from: string; readonly to: string; readonly inode: Inode }
  | { readonly kind: "mkdir"; readonly name: string; readonly dir: Dir }
  | { readonly kind: "rmdir"; readonly name: string };

export interface Dir {
  /** 1, 2, 3, ... per state: tells apart a removed directory from one made again at the same path. */
  readonly id: number;
  readonly path: string;
  /** File entries the process sees. */
  entries: Map<string, Inode>;
  /** File entries that survive power loss. */
  durable: Map<string, Inode>;
  /** Entry operations since the last syncDir (files and subdirectories), in order. */
  pending: DirOp[];
  /** Subdirectory names the process sees (each one is `dirs.get(path + "/" + name)`). */
  subdirs: Set<string>;
  /**
   * Subdirectory entries that survive power loss. A directory removed since keeps its state here (or in a pending
   * `mkdir`), as a crash may bring it back with what it durably held.
   */
  durableSubdirs: Map<string, Dir>;
}

interface ArmedFault {
  readonly spec: SimFaultSpec;
  skip: number;
  hits: number;
  active: boolean;
}

/** Normalise to an absolute posix path; backslashes count as separators. */
export function normalizePath(path: string): string {
  return posix.resolve("/", path.includes("\\") ? path.replaceAll("\\", "/") : path);
}

function newStats(): SimStats {
  return {
    opens: 0,
    closes: 0,
    reads: 0,
    bytesRead: 0,
    writes: 0,
    bytesWritten: 0,
    datasyncs: 0,
    syncs: 0,
    dirSyncs: 0,
    truncates: 0,
    sizes: 0,
    renames: 0,
    unlinks: 0,
    links: 0,
    mkdirs: 0,
    rmdirs: 0,
    readdirs: 0,
    stats: 0,
    faults: 0,
  };
}

/** Throw what the Node seam throws for `errno`. */
export function fail(errno: string, syscall: string, path: string): never {
  throw ioError(errnoError(errno, syscall, path), syscall, path);
}

/** Apply one pending operation to `bytes`. */
export function applyOp(bytes: PagedBytes, op: PendingOp): void {
  if (op.kind === "write") bytes.write(op.bytes, op.offset);
  else bytes.truncate(op.length);
}

/**
 * Make `dir` the durable subdirectory `name` of `parent`, as one that was there before the code under test ran: the
 * parent's unsynced mkdir and rmdir operations of that name (this directory's, or those of earlier directories made
 * and removed there) are dropped, so no crash image replaces or removes it.
 */
function setDurableSubdir(parent: Dir, name: string, dir: Dir): void {
  parent.durable.delete(name);
  parent.durableSubdirs.set(name, dir);
  parent.pending = parent.pending.filter((op) => (op.kind !== "mkdir" && op.kind !== "rmdir") || op.name !== name);
}

export class SimState {
  readonly dirs = new Map<string, Dir>();
  readonly stats: SimStats = newStats();
  #nextInode = 1;
  #nextDir = 1;
  #seq = 0;
  #faults: ArmedFault[] = [];
  #listeners: ((event: SimOperationEvent) => void)[] = [];
  #locks = new Set<string>();

  constructor() {
    this.dirs.set("/", this.#newDir("/"));
  }

  get seq(): number {
    return this.#seq;
  }

  newInode(): Inode {
    return { id: this.#nextInode++, data: new PagedBytes(), durable: new PagedBytes(), pending: [], diverged: false };
  }

  /** Create an inode with a given id and content (volatile == durable, nothing pending); for crash images. */
  adoptInode(id: number, content: PagedBytes): Inode {
    if (id >= this.#nextInode) this.#nextInode = id + 1;
    return { id, data: content.snapshot(), durable: content, pending: [], diverged: false };
  }

  #newDir(path: string): Dir {
    const id = this.#nextDir++;
    return {
      id,
      path,
      entries: new Map(),
      durable: new Map(),
      pending: [],
      subdirs: new Set(),
      durableSubdirs: new Map(),
    };
  }

  /**
   * Add a directory (and its parents) to the tree; returns true when something was created. Each directory created
   * is a new entry in its parent, unsynced until the parent's syncDir. With `durable`, every directory on the path
   * (created or already there) is instead at once a durable entry of its parent: a directory that existed before.
   */
  addDir(path: string, syscall = "mkdir", final = true, durable = false): boolean {
    const existing = this.dirs.get(path);
    if (existing !== undefined) {
      if (durable && path !== "/") {
        const parentPath = posix.dirname(path);
        this.addDir(parentPath, syscall, false, true);
        setDurableSubdir(this.dirs.get(parentPath) as Dir, posix.basename(path), existing);
      }
      return false;
    }
    const parentPath = posix.dirname(path);
    this.addDir(parentPath, syscall, false, durable);
    const parent = this.dirs.get(parentPath) as Dir;
    const name = posix.basename(path);
    // Node reports EEXIST when the target itself is a file, ENOTDIR when a file sits on the way.
    if (parent.entries.has(name)) fail(final ? "EEXIST" : "ENOTDIR", syscall, path);
    const dir = this.#newDir(path);
    parent.subdirs.add(name);
    this.dirs.set(path, dir);
    if (durable) {
      setDurableSubdir(parent, name, dir);
    } else {
      parent.pending.push({ kind: "mkdir", name, dir });
    }
    return true;
  }

  /**
   * Remove the empty directory `path` from the tree: an unsynced entry operation of its parent, as an unlink is (a
   * crash may bring the directory back with what it durably held); the errno Node's `rmdir` reports otherwise:
   * ENOENT, ENOTDIR (a file), ENOTEMPTY (a visible entry or subdirectory), EBUSY (the root).
   */
  removeDir(path: string, syscall: string): void {
    const found = this.lookup(path, syscall);
    if (found === undefined) fail("ENOENT", syscall, path);
    if (found !== "dir") fail("ENOTDIR", syscall, path);
    if (path === "/") fail("EBUSY", syscall, path);
    const dir = this.dirs.get(path) as Dir;
    if (dir.entries.size > 0 || dir.subdirs.size > 0) fail("ENOTEMPTY", syscall, path);
    this.dirs.delete(path);
    const parent = this.dirs.get(posix.dirname(path)) as Dir;
    const name = posix.basename(path);
    parent.subdirs.delete(name);
    parent.pending.push({ kind: "rmdir", name });
  }

  /** Make the directory's entries (files and subdirectories) durable as the process sees them now. */
  syncEntries(dir: Dir): void {
    if (dir.pending.length === 0) return;
    dir.durable = new Map(dir.entries);
    dir.durableSubdirs = new Map(
      [...dir.subdirs].map((name) => [name, this.dirs.get(posix.join(dir.path, name)) as Dir]),
    );
    dir.pending = [];
  }

  /** The directory holding `path`, or the errno Node would report (ENOENT, or ENOTDIR under a file). */
  parentOf(path: string, syscall: string): Dir {
    const dir = this.dirs.get(posix.dirname(path));
    if (dir !== undefined) return dir;
    // Find the deepest existing ancestor: a file right below it makes the path ENOTDIR.
    let p = posix.dirname(path);
    while (!this.dirs.has(posix.dirname(p))) p = posix.dirname(p);
    const ancestor = this.dirs.get(posix.dirname(p)) as Dir;
    fail(ancestor.entries.has(posix.basename(p)) ? "ENOTDIR" : "ENOENT", syscall, path);
  }

  /** The file at `path`, `"dir"` for a directory, undefined when missing (throws ENOTDIR under a file). */
  lookup(path: string, syscall: string): Inode | "dir" | undefined {
    if (this.dirs.has(path)) return "dir";
    let dir: Dir;
    try {
      dir = this.parentOf(path, syscall);
    } catch (e) {
      if (errnoOf(e) === "ENOENT") return undefined;
      throw e;
    }
    return dir.entries.get(posix.basename(path));
  }

  // Faults -----------------------------------------------------------------------------------------------------

  injectFault(spec: SimFaultSpec): SimFaultHandle {
    if (!Number.isSafeInteger(spec.skip ?? 0) || (spec.skip ?? 0) < 0)
      throw new WalError("WAL_INVALID_ARGUMENT", "skip must be ≥ 0");
    const armed: ArmedFault = { spec, skip: spec.skip ?? 0, hits: 0, active: true };
    this.#faults.push(armed);
    const faults = () => this.#faults;
    const setFaults = (f: ArmedFault[]) => {
      this.#faults = f;
    };
    return {
      remove() {
        armed.active = false;
        setFaults(faults().filter((f) => f !== armed));
      },
      get hits() {
        return armed.hits;
      },
      get active() {
        return armed.active;
      },
    };
  }

  clearFaults(): void {
    for (const f of this.#faults) f.active = false;
    this.#faults = [];
  }

  /** The fault that fails this operation, if any (consumes skips and once-faults). */
  fault(op: SimOp, path: string, path2?: string): SimFaultSpec | undefined {
    if (this.#faults.length === 0) return undefined;
    for (const f of this.#faults) {
      if (f.spec.op !== op || !f.active) continue;
      const want = f.spec.path;
      if (want !== undefined) {
        const matches = (p: string) => {
          if (typeof want === "string") return normalizePath(want) === p;
          want.lastIndex = 0; // a /g or /y RegExp is stateful
          return want.test(p);
        };
        if (!matches(path) && (path2 === undefined || !matches(path2))) continue;
      }
      if (f.skip > 0) {
        f.skip--;
        continue;
      }
      f.hits++;
      this.stats.faults++;
      if (f.spec.persistent !== true) {
        f.active = false;
        this.#faults = this.#faults.filter((x) => x !== f);
      }
      return f.spec;
    }
    return undefined;
  }

  // Observation ------------------------------------------------------------------------------------------------

  onOperation(cb: (event: SimOperationEvent) => void): () => void {
    this.#listeners.push(cb);
    return () => {
      this.#listeners = this.#listeners.filter((l) => l !== cb);
    };
  }

  emit(op: SimOp, path: string, failed: boolean, to?: string): void {
    const seq = ++this.#seq;
    if (this.#listeners.length === 0) return;
    const event: SimOperationEvent = to === undefined ? { op, path, seq, failed } : { op, path, to, seq, failed };
    for (const l of this.#listeners) l(event);
  }

  // Locks ------------------------------------------------------------------------------------------------------

  tryLock(path: string): (() => void) | null {
    const key = normalizePath(path);
    if (this.#locks.has(key)) return null;
    this.#locks.add(key);
    let held = true;
    return () => {
      if (!held) return;
      held = false;
      this.#locks.delete(key);
    };
  }

  // File data --------------------------------------------------------------------------------------------------

  write(inode: Inode, data: Uint8Array, position: number): void {
    // Copy: the caller may reuse its buffer, and crash images replay these bytes later.
    const bytes = new Uint8Array(data);
    inode.data.write(bytes, position);
    inode.pending.push({ kind: "write", offset: position, bytes });
    this.stats.bytesWritten += bytes.byteLength;
  }

  truncate(inode: Inode, length: number): void {
    inode.data.truncate(length);
    inode.pending.push({ kind: "truncate", length });
  }

  /** Make the inode's pending operations durable. */
  sync(inode: Inode): void {
    if (inode.pending.length === 0) return;
    if (!inode.diverged) {
      inode.durable = inode.data.snapshot();
    } else {
      const next = inode.durable.snapshot();
      for (const op of inode.pending) applyOp(next, op);
      inode.durable = next;
    }
    inode.pending = [];
  }

  /** fsyncgate: a failed sync marks the dirty pages clean, so their data can never become durable. */
  dropPending(inode: Inode): void {
    if (inode.pending.length === 0) return;
    inode.pending = [];
    inode.diverged = true;
  }

  /** Replace a file's content outright (test setup and damage injection). */
  setContent(inode: Inode, bytes: Uint8Array, durable: boolean): void {
    if (durable) {
      inode.data = PagedBytes.from(bytes);
      inode.durable = inode.data.snapshot();
      inode.pending = [];
      inode.diverged = false;
    } else {
      if (inode.data.size > 0) this.truncate(inode, 0);
      this.write(inode, bytes, 0);
    }
  }

  // Copies -----------------------------------------------------------------------------------------------------

  /** An exact copy of the file-system state (not faults, listeners, locks or counters). */
  clone(): SimState {
    const out = new SimState();
    out.#nextInode = this.#nextInode;
    out.#nextDir = this.#nextDir;
    const map = new Map<Inode, Inode>();
    const copy = (i: Inode): Inode => {
      let c = map.get(i);
      if (c === undefined) {
        c = { id: i.id, data: i.data.snapshot(), durable: i.durable, pending: i.pending.slice(), diverged: i.diverged };
        map.set(i, c);
      }
      return c;
    };
    const remap = (m: Map<string, Inode>) => new Map([...m].map(([k, v]) => [k, copy(v)] as const));
    // Removed directories a crash may bring back are reached through durable entries and pending mkdirs.
    const dirMap = new Map<Dir, Dir>();
    const copyDir = (d: Dir): Dir => {
      const known = dirMap.get(d);
      if (known !== undefined) return known;
      const c: Dir = {
        id: d.id,
        path: d.path,
        entries: remap(d.entries),
        durable: remap(d.durable),
        pending: [],
        subdirs: new Set(d.subdirs),
        durableSubdirs: new Map(),
      };
      dirMap.set(d, c);
      c.durableSubdirs = new Map([...d.durableSubdirs].map(([k, v]) => [k, copyDir(v)] as const));
      c.pending = d.pending.map((op): DirOp => {
        if (op.kind === "unlink" || op.kind === "rmdir") return op;
        if (op.kind === "mkdir") return { ...op, dir: copyDir(op.dir) };
        return { ...op, inode: copy(op.inode) };
      });
      return c;
    };
    for (const [path, d] of this.dirs) out.dirs.set(path, copyDir(d));
    return out;
  }
}
