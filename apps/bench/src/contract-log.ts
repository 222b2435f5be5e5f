/**
 * The floor of what every sync mode of @lora/wal must do besides framing and writing, written by hand with `fs`
 * alone: the plain hand-framed loops of the `none` and buffered workloads write one ever-growing file and never
 * fdatasync, while the library keeps its durability contract in every mode (see `@lora/wal`'s README):
 *
 * - at most 1 MiB written but not fdatasynced: an fdatasync starts on the thread pool once half of that is used, and
 *   a write that would exceed it waits for one (recovery tells a torn write from damage by this window);
 * - 8 MiB segments: sealing one fdatasyncs it, rewrites its header and fdatasyncs again; the next is created
 *   exclusively with its header, fsynced, and made durable by a directory fsync before it is written to.
 *
 * A loop through this log is what keeping that contract the way the handle keeps it costs on this machine, with no
 * library. Not the least any implementation could pay: creating the next segment ahead of rotation, say, would take
 * the file creation off the writer's path (rotation is up to ~10 % of a `none` writer's time here, the window's
 * fdatasyncs most of the rest of the floor's extra cost).
 */

import * as fs from "node:fs";
import { join } from "node:path";
import { cbDatasync, cbFsync } from "./callback-fs.js";

const WINDOW_BYTES = 1 << 20;
const SEGMENT_BYTES = 8 << 20;
const HEADER_BYTES = 32;

function fsyncPath(path: string): Promise<void> {
  const fd = fs.openSync(path, "r");
  return cbFsync(fd).finally(() => fs.closeSync(fd));
}

export class ContractLog {
  readonly #dir: string;
  readonly #header = Buffer.alloc(HEADER_BYTES, 0x4c);
  #segment = 0;
  #fd = -1;
  /** Bytes in the active segment, its header included. */
  #written = 0;
  #synced = 0;
  #syncing: Promise<void> | undefined;
  /** A failed fdatasync: every later call throws it (nothing is written over a possibly lost write). */
  #failure: unknown;

  private constructor(dir: string) {
    this.#dir = dir;
  }

  /** A log in `dir` with its first segment created as the handle creates one (untimed by the callers). */
  static async create(dir: string): Promise<ContractLog> {
    const log = new ContractLog(dir);
    await log.#createSegment();
    return log;
  }

  /**
   * Write `length` bytes of `buf` at the end. Synchronous (`undefined`) unless the write must wait: for the window
   * (an fdatasync in flight) or for a rotation. At most the window per call.
   */
  write(buf: Uint8Array, length: number): Promise<void> | undefined {
    if (this.#failure !== undefined) throw this.#failure;
    if (this.#written + length > SEGMENT_BYTES) return this.#rotateThenWrite(buf, length);
    if (this.#written + length - this.#synced > WINDOW_BYTES) return this.#waitThenWrite(buf, length);
    this.#writeNow(buf, length);
    return undefined;
  }

  /** fdatasync what was written and close. */
  async finish(): Promise<void> {
    await this.#syncing;
    if (this.#failure !== undefined) throw this.#failure;
    await cbDatasync(this.#fd);
    fs.closeSync(this.#fd);
  }

  #writeNow(buf: Uint8Array, length: number): void {
    fs.writeSync(this.#fd, buf, 0, length, this.#written);
    this.#written += length;
    if (this.#syncing === undefined && this.#written - this.#synced > WINDOW_BYTES / 2) this.#syncInBackground();
  }

  #syncInBackground(): void {
    const covered = this.#written;
    const segment = this.#segment;
    this.#syncing = cbDatasync(this.#fd).then(
      () => {
        // A sync of a segment sealed since says nothing of the new one (rotation waits for it anyway).
        if (segment === this.#segment && covered > this.#synced) this.#synced = covered;
        this.#syncing = undefined;
      },
      (error: unknown) => {
        this.#failure ??= error;
        this.#syncing = undefined;
      },
    );
  }

  async #waitThenWrite(buf: Uint8Array, length: number): Promise<void> {
    while (this.#written + length - this.#synced > WINDOW_BYTES) {
      if (this.#syncing === undefined) this.#syncInBackground();
      await this.#syncing;
      if (this.#failure !== undefined) throw this.#failure;
    }
    this.#writeNow(buf, length);
  }

  async #rotateThenWrite(buf: Uint8Array, length: number): Promise<void> {
    await this.#syncing;
    if (this.#failure !== undefined) throw this.#failure;
    await cbDatasync(this.#fd);
    fs.writeSync(this.#fd, this.#header, 0, HEADER_BYTES, 0);
    await cbDatasync(this.#fd);
    fs.closeSync(this.#fd);
    await this.#createSegment();
    this.#writeNow(buf, length);
  }

  async #createSegment(): Promise<void> {
    this.#segment++;
    this.#fd = fs.openSync(join(this.#dir, `${String(this.#segment).padStart(10, "0")}.wal`), "wx+");
    fs.writeSync(this.#fd, this.#header, 0, HEADER_BYTES, 0);
    await cbFsync(this.#fd);
    await fsyncPath(this.#dir);
    this.#written = HEADER_BYTES;
    this.#synced = HEADER_BYTES;
  }
}
