/**
 * Tier D's workload (the events of commit i, known to the writer and to the checker alike) and the planted seam
 * bugs: wrappers around the real Node seam, below the handle, where tiers A (SimFS) and B (SIGKILL, nothing lost
 * from the page cache) cannot see them. They live here, in the harness, never in the product.
 */

import type { JsonValue } from "@lora/wal";
import type { OpenMode, WalFile, WalFileSystem } from "@lora/wal-segment";

/** Small enough that 24 commits rotate a few times. */
export const TRACE_SEGMENT_TARGET = 2048;

export const SEAM_BUGS = [
  "syncdir-noop",
  "datasync-wrong-fd",
  "create-without-dir-fsync",
  "snapshot-rename-before-fsync",
] as const;

/** The workload each seam bug is traced with: the kv-store example's snapshot path for the rename bug. */
export function workloadOf(bug: SeamBug): "wal" | "kv" {
  return bug === "snapshot-rename-before-fsync" ? "kv" : "wal";
}
export type SeamBug = (typeof SEAM_BUGS)[number];

/**
 * What a traced writer does: `wal` commits (rotations, a checkpoint with truncation, close); `heal-torn` commits,
 * closes, appends a torn record to the newest segment, and reopens (recovery copies the torn bytes to a `.broken`
 * file and cuts them) before committing the rest; `heal-sealed` commits until a rotation, closes, removes the
 * newest segment (it holds only an aborted transaction) so the newest left is sealed with no successor, and reopens
 * (recovery creates the successor); `heal-torn-large` is `heal-torn` with a torn record larger than the unsynced
 * window (its tail more than 4 KiB past the damage, so recovery cuts it in two steps); `kv` runs the kv-store example.
 */
export const TRACE_WORKLOADS = ["wal", "heal-torn", "heal-sealed", "heal-torn-large", "kv"] as const;
export type TraceWorkload = (typeof TRACE_WORKLOADS)[number];

/** The sync modes a traced writer runs in (trace t in mode t % 3). */
export const TRACE_SYNC_MODES = ["perCommit", "group", "none"] as const;
export type TraceSyncMode = (typeof TRACE_SYNC_MODES)[number];

/** The group mode's flusher interval in traces: short, so a wave's whenDurable waits little. */
export const TRACE_GROUP_INTERVAL_MS = 2;

/** The events of commit `i` (1..3 events, one in five with a ~700-byte pad so records cross 512-byte sectors). */
export function traceEvents(i: number): JsonValue[] {
  const count = 1 + (i % 3);
  const pad = i % 5 === 4 ? "p".repeat(700) : "q".repeat(i % 7);
  return Array.from({ length: count }, (_, k) => ({ id: `t${i}`, k, n: count, pad }));
}

class WrappedFile implements WalFile {
  readonly #inner: WalFile;
  readonly #seam: BuggySeam;
  constructor(inner: WalFile, seam: BuggySeam) {
    this.#inner = inner;
    this.#seam = seam;
  }
  get path(): string {
    return this.#inner.path;
  }
  /** The Node seam's descriptor (for flock). */
  get fd(): number {
    return this.#inner.fd as number;
  }
  read(buffer: Uint8Array, offset: number, length: number, position: number): Promise<number> {
    return this.#inner.read(buffer, offset, length, position);
  }
  write(data: Uint8Array, position: number): Promise<void> {
    return this.#inner.write(data, position);
  }
  writeSync(data: Uint8Array, position: number): void {
    if (this.#inner.writeSync === undefined) throw new Error("the wrapped seam has no writeSync");
    this.#inner.writeSync(data, position);
  }
  datasync(): Promise<void> {
    if (this.#seam.bug === "datasync-wrong-fd") {
      // The fdatasync lands on another open descriptor of the seam (the one opened before this file).
      const other = this.#seam.otherThan(this);
      return other === undefined ? Promise.resolve() : other.innerDatasync();
    }
    return this.#inner.datasync();
  }
  datasyncSync(): void {
    if (this.#seam.bug === "datasync-wrong-fd") {
      const other = this.#seam.otherThan(this);
      if (other !== undefined) other.innerDatasyncSync();
      return;
    }
    this.innerDatasyncSync();
  }
  innerDatasync(): Promise<void> {
    return this.#inner.datasync();
  }
  innerDatasyncSync(): void {
    if (this.#inner.datasyncSync === undefined) throw new Error("the wrapped seam has no datasyncSync");
    this.#inner.datasyncSync();
  }
  sync(): Promise<void> {
    // The snapshot's tmp file: its fsync is deferred until after the rename (see BuggySeam.rename).
    if (this.#seam.bug === "snapshot-rename-before-fsync" && this.path.endsWith(".tmp")) {
      this.#seam.deferSync(this.path);
      return Promise.resolve();
    }
    return this.#inner.sync();
  }
  truncate(length: number): Promise<void> {
    return this.#inner.truncate(length);
  }
  size(): Promise<number> {
    return this.#inner.size();
  }
  close(): Promise<void> {
    this.#seam.closed(this);
    return this.#inner.close();
  }
}

class BuggySeam implements WalFileSystem {
  readonly name: string;
  readonly bug: SeamBug;
  readonly link?: (existing: string, newPath: string) => Promise<void>;
  readonly rmdir?: (path: string) => Promise<void>;
  readonly #inner: WalFileSystem;
  readonly #open: WrappedFile[] = [];
  #createdSinceDirSync = false;
  readonly #deferred = new Set<string>();

  constructor(inner: WalFileSystem, bug: SeamBug) {
    this.#inner = inner;
    this.bug = bug;
    this.name = `${inner.name}+${bug}`;
    // The optional operations, present exactly when the inner seam has them (the code under test picks its path by
    // them). A link creates an entry, as an open that creates does.
    const link = inner.link?.bind(inner);
    if (link !== undefined) {
      this.link = async (existing, newPath) => {
        await link(existing, newPath);
        this.#createdSinceDirSync = true;
      };
    }
    const rmdir = inner.rmdir?.bind(inner);
    if (rmdir !== undefined) this.rmdir = (path) => rmdir(path);
  }
  deferSync(path: string): void {
    this.#deferred.add(path);
  }
  otherThan(f: WrappedFile): WrappedFile | undefined {
    const others = this.#open.filter((x) => x !== f);
    return others[others.length - 1];
  }
  closed(f: WrappedFile): void {
    const i = this.#open.indexOf(f);
    if (i >= 0) this.#open.splice(i, 1);
  }
  async open(path: string, mode: OpenMode): Promise<WalFile> {
    const existed = (await this.#inner.stat(path)) !== null;
    const f = new WrappedFile(await this.#inner.open(path, mode), this);
    if (!existed && mode !== "read") this.#createdSinceDirSync = true;
    this.#open.push(f);
    return f;
  }
  mkdirp(path: string): Promise<void> {
    return this.#inner.mkdirp(path);
  }
  readdir(path: string): Promise<string[]> {
    return this.#inner.readdir(path);
  }
  stat(path: string): ReturnType<WalFileSystem["stat"]> {
    return this.#inner.stat(path);
  }
  async rename(from: string, to: string): Promise<void> {
    await this.#inner.rename(from, to);
    if (this.#deferred.delete(from)) {
      // The data fsync, after the rename that should have waited for it.
      const f = await this.#inner.open(to, "readWrite");
      try {
        await f.sync();
      } finally {
        await f.close();
      }
    }
  }
  unlink(path: string): Promise<void> {
    return this.#inner.unlink(path);
  }
  syncDir(path: string): Promise<void> {
    if (this.bug === "syncdir-noop") return Promise.resolve();
    if (this.bug === "create-without-dir-fsync" && this.#createdSinceDirSync) {
      this.#createdSinceDirSync = false;
      return Promise.resolve();
    }
    return this.#inner.syncDir(path);
  }
}

/** The Node seam, or the Node seam with one planted bug (`none` for the clean seam). */
export function wrapSeam(fs: WalFileSystem, bug: string): WalFileSystem {
  if (bug === "none") return fs;
  if (!(SEAM_BUGS as readonly string[]).includes(bug)) throw new Error(`unknown seam bug ${bug}`);
  return new BuggySeam(fs, bug as SeamBug);
}
