/**
 * Tier F (simulated): a process's view of the shared SimFS "machine". Each simulated process (a writer, a follower)
 * does its I/O through its own view; killing the view is killing the process: from then on every call through it,
 * and through every file it opened, fails, so a dead writer can never write again (its page cache, the SimFS's
 * volatile state, survives, as after a real SIGKILL). A view can also die at an exact point: after its n-th mutating
 * operation, or in the middle of a segment write (a prefix of the bytes landed: SIGKILL inside a multi-page write).
 *
 * A view has no `tryLock`, so the handle takes the in-process lock registry keyed by the view: a new writer process
 * (a new view) can open the directory while the dead one's handle was never closed, as a kernel lock dies with its
 * process.
 */

import { WalError } from "@lora/wal";

/** The page size: a killed process leaves a write cut at a page boundary. */
const PAGE_BYTES = 4096;

import type { FileStat, OpenMode, WalFile, WalFileSystem } from "@lora/wal-segment";

/** What a view calls when it dies at a planned point (synchronously, right after the last operation landed). */
export type DeathHandler = (why: string) => void;

const SEGMENT_FILE = /\/\d+\.wal$/;

function dead(name: string, syscall: string, path: string): WalError {
  return new WalError("WAL_IO", `${syscall} ${path}: process ${name} is dead`, {
    details: { path, syscall, errno: "ESRCH" },
  });
}

export class FsView implements WalFileSystem {
  readonly name: string;
  /**
   * The inner seam's `link`, through the view (present exactly when the inner seam has it, so a caller picks the same
   * path it would on the inner seam: `invalidateSlot` links its whole marker into place only with a `link`). A link
   * is a mutating operation: it counts toward {@link FsView.dieAfter}, and a dead or stopped view refuses or holds it.
   */
  readonly link?: (existing: string, newPath: string) => Promise<void>;
  /** The inner seam's `rmdir`, through the view (present exactly when the inner seam has it); a mutating operation. */
  readonly rmdir?: (path: string) => Promise<void>;
  readonly #inner: WalFileSystem;
  #dead = false;
  #ops = 0;
  #links = 0;
  #dieAfter = Number.POSITIVE_INFINITY;
  #tearAt = Number.POSITIVE_INFINITY;
  #tearBytes = 0;
  #onDeath: DeathHandler | undefined;
  #stopped: Promise<void> | null = null;
  #continue: (() => void) | undefined;

  constructor(inner: WalFileSystem, name: string) {
    this.#inner = inner;
    this.name = `view:${name}`;
    const link = inner.link?.bind(inner);
    if (link !== undefined) {
      this.link = async (existing, newPath) => {
        await this.enter("link", newPath);
        await link(existing, newPath);
        this.#links++;
        this.landed(`link ${existing} -> ${newPath}`);
      };
    }
    const rmdir = inner.rmdir?.bind(inner);
    if (rmdir !== undefined) {
      this.rmdir = async (path) => {
        await this.enter("rmdir", path);
        await rmdir(path);
        this.landed(`rmdir ${path}`);
      };
    }
  }

  /** Hard links made through this view so far (the seam's `link`, e.g. a slot's invalidation marker put in place). */
  get links(): number {
    return this.#links;
  }

  get isDead(): boolean {
    return this.#dead;
  }

  /** Mutating operations (writes, syncs, truncates, creates, renames, unlinks, links) done through this view so far. */
  get ops(): number {
    return this.#ops;
  }

  /** Die now. */
  kill(): void {
    this.#dead = true;
  }

  /**
   * Die right after the `n`-th mutating operation from now; when that operation is a segment write and `tearBytes`
   * is given, only the first `tearBytes` of it land, and the write fails.
   */
  dieAfter(n: number, onDeath: DeathHandler, tearBytes?: number): void {
    this.#dieAfter = this.#ops + n;
    this.#onDeath = onDeath;
    if (tearBytes !== undefined) {
      this.#tearAt = this.#ops + n;
      this.#tearBytes = tearBytes;
    }
  }

  /** Check the view is alive before an operation. */
  check(syscall: string, path: string): void {
    if (this.#dead) throw dead(this.name, syscall, path);
  }

  /**
   * SIGSTOP: from now on every asynchronous operation through the view waits before it starts, until
   * {@link FsView.resume}; the process's timers still fire, but nothing it does reaches the files.
   */
  stop(): void {
    this.#stopped ??= new Promise<void>((resolve) => {
      this.#continue = resolve;
    });
  }

  /** SIGCONT: the waiting operations start, in the order they were called. */
  resume(): void {
    this.#continue?.();
    this.#stopped = null;
    this.#continue = undefined;
  }

  /** Wait while stopped, then check the view is alive: the start of every asynchronous operation. */
  async enter(syscall: string, path: string): Promise<void> {
    while (this.#stopped !== null) await this.#stopped;
    this.check(syscall, path);
  }

  /** Count a mutating operation that just landed; dies when it was the planned last one. */
  landed(what: string): void {
    this.#ops++;
    if (this.#ops >= this.#dieAfter && !this.#dead) {
      this.#dead = true;
      this.#onDeath?.(`after op ${this.#ops} (${what})`);
    }
  }

  /**
   * For a segment write about to happen: the prefix to land instead of the whole buffer, or null. A process killed
   * inside write(2) leaves whole pages: the kernel copies a write into the page cache page by page and checks for
   * a fatal signal only between pages, so the cut falls on a page boundary of the file (a 32-byte header rewrite,
   * within one page, lands whole or not at all).
   */
  tear(path: string, bytes: number, position: number): number | null {
    if (this.#ops + 1 !== this.#tearAt || !SEGMENT_FILE.test(path)) return null;
    const want = Math.min(this.#tearBytes, Math.max(0, bytes - 1));
    const pageCut = Math.floor((position + want) / PAGE_BYTES) * PAGE_BYTES - position;
    return Math.max(0, Math.min(pageCut, bytes - 1));
  }

  async open(path: string, mode: OpenMode): Promise<WalFile> {
    await this.enter("open", path);
    const existed = mode === "read" || mode === "readWrite" ? true : (await this.#inner.stat(path)) !== null;
    const file = await this.#inner.open(path, mode);
    if (this.#dead) {
      await file.close();
      throw dead(this.name, "open", path);
    }
    if (!existed) this.landed(`create ${path}`);
    return new ViewFile(this, file);
  }

  async mkdirp(path: string): Promise<void> {
    await this.enter("mkdir", path);
    await this.#inner.mkdirp(path);
  }

  async readdir(path: string): Promise<string[]> {
    await this.enter("scandir", path);
    return await this.#inner.readdir(path);
  }

  async stat(path: string): Promise<FileStat | null> {
    await this.enter("stat", path);
    return await this.#inner.stat(path);
  }

  async rename(from: string, to: string): Promise<void> {
    await this.enter("rename", from);
    await this.#inner.rename(from, to);
    this.landed(`rename ${from}`);
  }

  async unlink(path: string): Promise<void> {
    await this.enter("unlink", path);
    await this.#inner.unlink(path);
    this.landed(`unlink ${path}`);
  }

  async syncDir(path: string): Promise<void> {
    await this.enter("fsync", path);
    await this.#inner.syncDir(path);
    this.landed(`syncDir ${path}`);
  }
}

class ViewFile implements WalFile {
  readonly path: string;
  readonly #view: FsView;
  readonly #file: WalFile;
  readonly writeSync?: (data: Uint8Array, position: number) => void;
  readonly datasyncSync?: () => void;
  readonly identity?: () => Promise<string>;

  constructor(view: FsView, file: WalFile) {
    this.#view = view;
    this.#file = file;
    this.path = file.path;
    // Offered when the file beneath offers it, as the view's `stat` passes the path's identity on: a follower then
    // tells a moved-aside segment by identity, as it does on the real seam.
    if (file.identity !== undefined) {
      const inner = file.identity.bind(file);
      this.identity = async () => {
        await this.#view.enter("fstat", this.path);
        return await inner();
      };
    }
    if (file.writeSync !== undefined) {
      const inner = file.writeSync.bind(file);
      this.writeSync = (data, position) => this.#write(data, position, inner);
    }
    if (file.datasyncSync !== undefined) {
      const inner = file.datasyncSync.bind(file);
      this.datasyncSync = () => {
        this.#view.check("fdatasync", this.path);
        inner();
        this.#view.landed(`datasync ${this.path}`);
      };
    }
  }

  #write(data: Uint8Array, position: number, inner: (d: Uint8Array, p: number) => void): void {
    this.#view.check("write", this.path);
    const torn = this.#view.tear(this.path, data.byteLength, position);
    if (torn !== null) {
      if (torn > 0) inner(data.subarray(0, torn), position);
      this.#view.landed(`torn write ${this.path} (${torn} of ${data.byteLength} bytes)`);
      throw dead(this.#view.name, "write", this.path);
    }
    inner(data, position);
    this.#view.landed(`write ${this.path}`);
  }

  async read(buffer: Uint8Array, offset: number, length: number, position: number): Promise<number> {
    await this.#view.enter("read", this.path);
    return await this.#file.read(buffer, offset, length, position);
  }

  async write(data: Uint8Array, position: number): Promise<void> {
    await this.#view.enter("write", this.path);
    const torn = this.#view.tear(this.path, data.byteLength, position);
    if (torn !== null) {
      if (torn > 0) await this.#file.write(data.subarray(0, torn), position);
      this.#view.landed(`torn write ${this.path} (${torn} of ${data.byteLength} bytes)`);
      throw dead(this.#view.name, "write", this.path);
    }
    await this.#file.write(data, position);
    this.#view.landed(`write ${this.path}`);
  }

  async datasync(): Promise<void> {
    await this.#view.enter("fdatasync", this.path);
    await this.#file.datasync();
    this.#view.landed(`datasync ${this.path}`);
  }

  async sync(): Promise<void> {
    await this.#view.enter("fsync", this.path);
    await this.#file.sync();
    this.#view.landed(`sync ${this.path}`);
  }

  async truncate(length: number): Promise<void> {
    await this.#view.enter("ftruncate", this.path);
    await this.#file.truncate(length);
    this.#view.landed(`truncate ${this.path}`);
  }

  async size(): Promise<number> {
    await this.#view.enter("fstat", this.path);
    return await this.#file.size();
  }

  async close(): Promise<void> {
    // Closing never fails: a dead process's descriptors are closed by the kernel.
    await this.#file.close();
  }
}
