/**
 * `fsArchive`: an archive store in a directory (a mounted backup volume, an NFS share), doing its I/O through the
 * file-system seam so the same code runs on the real file system and on SimFS in crash tests.
 *
 * An object `a/b/c` is the file `<dir>/a/b/c`. A `put` writes `<key>.tmp-<random>` (created exclusively), fsyncs
 * it, renames it over `<key>` and fsyncs the directory; directories it creates are made durable first (each new
 * directory's parent is fsynced), and so, on a store's first put into it, is a key directory that was already there
 * (an earlier put may have made it and been killed before those fsyncs). So after a crash at any point an object is
 * either absent or complete, and an object whose `put` resolved survives.
 */

import { randomBytes } from "node:crypto";
import { dirname, join, resolve } from "node:path";
import { checkOptionNames, errnoOf, isWalError, optionNames, shownValue, WalError } from "@lora/wal-codec";
import { fileSystemOption, isMissingFileError, mkdirDurably, type WalFileSystem } from "@lora/wal-segment";
import { assertStoreKey, assertStorePrefix } from "./archive-keys.js";
import {
  type ArchiveCallOptions,
  type ArchiveObjectInfo,
  type ArchivePutOptions,
  type ArchiveStore,
  abortReasonOr,
  checkCallOptions,
  startCall,
} from "./archive-store.js";
import { crc32InSlices } from "./crc32-in-slices.js";
import { missingArchiveDir, type NamesMissingArchiveDir } from "./empty-archive.js";
import { sameBytes } from "./same-bytes.js";
import { storeIoError } from "./store-io-error.js";

/** Options of {@link fsArchive}. */
export interface FsArchiveOptions {
  /** The file-system seam. @default the Node file system */
  readonly fs?: WalFileSystem;
}

/** Every option `fsArchive` reads; any other name is refused (`WAL_INVALID_OPTION`). */
const FS_ARCHIVE_OPTION_NAMES = optionNames<FsArchiveOptions>()("fs");

/** A directory store: an {@link ArchiveStore} plus the directory it lives in. */
export interface FsArchive extends ArchiveStore {
  /** The archive directory, resolved to an absolute path. */
  readonly dir: string;
}

/** What marks a temporary file of an unfinished `put` (`<key>.tmp-<random>`). */
const TMP_MARK = ".tmp-";

/**
 * An archive store in the directory `dir`, created (durably) on the first `put` if it does not exist.
 *
 * Beyond the {@link ArchiveStore} guarantees:
 * - `put` checks the `crc32` option against the bytes before writing anything (`WAL_ARCHIVE_CORRUPT` when they
 *   differ). A `put` of an existing key with the same bytes succeeds and makes the object durable again (a retry
 *   after a crash between the rename and the directory fsync); with other bytes it is `WAL_INVALID_ARGUMENT`.
 *   Puts of one key through one store instance are serialised, so two racing puts of different bytes cannot both
 *   succeed; separate processes writing the same key with different bytes are not protected from each other.
 * - `list` walks subdirectories and reports keys with `/` separators, sorted; files that are not valid keys and
 *   temporary files of unfinished puts (`*.tmp-*`) are not objects and are skipped. A `dir` that does not exist
 *   lists as empty (an archiver's first put creates it); `restore` and `verifyArchive` then say that it does not
 *   exist, naming it. So a key whose last part
 *   contains `.tmp-` is refused (`WAL_INVALID_ARGUMENT`) by every call.
 * - `delete` unlinks the object and fsyncs its directory; empty directories are left in place.
 * - A key cannot be both an object and a directory (`a` and `a/b`): the second `put` fails with `WAL_IO`.
 * - Every I/O failure is a `WalError` `WAL_IO` with the Node error as `cause` and `details.object` naming the key.
 * - A `signal` is checked before each call, again before the rename that publishes an object and at each entry a
 *   `list` walks; an aborted call rejects with the signal's reason itself, whatever it is (a `WAL_IO` of the
 *   caller's own too), also when an I/O failure of the call came before or after the abort. One that is not an
 *   `AbortSignal` is refused (`WAL_INVALID_ARGUMENT`) before anything is read
 *   or written, and so are options that are not an object or name an option the call does not read
 *   (`WAL_INVALID_OPTION`).
 *
 * @throws {@link WalError} `WAL_INVALID_ARGUMENT` when `dir` is not a non-empty string.
 */
export function fsArchive(dir: string, options: FsArchiveOptions = {}): FsArchive {
  if (typeof dir !== "string" || dir === "") {
    throw new WalError("WAL_INVALID_ARGUMENT", `fsArchive needs a directory, got ${shownValue(dir)}`);
  }
  const read = checkOptionNames(options, FS_ARCHIVE_OPTION_NAMES, "fsArchive");
  return new DirectoryStore(resolve(dir), fileSystemOption(read.fs, "fsArchive"));
}

class DirectoryStore implements FsArchive, NamesMissingArchiveDir {
  readonly dir: string;
  readonly name: string;
  readonly #fs: WalFileSystem;
  /** The put in progress per key: the next put of that key waits for it. */
  readonly #putting = new Map<string, Promise<void>>();
  /** Key directories this store has made durable ({@link mkdirDurably}): later puts there skip it. */
  readonly #durableDirs = new Set<string>();

  constructor(dir: string, fs: WalFileSystem) {
    this.dir = dir;
    this.name = `fs:${dir}`;
    this.#fs = fs;
  }

  async put(key: string, bytes: Uint8Array, given: ArchivePutOptions = {}): Promise<void> {
    assertObjectKey(key);
    const options = checkCallOptions(given, "put", `put ${key}`);
    if (!(bytes instanceof Uint8Array)) {
      throw new WalError("WAL_INVALID_ARGUMENT", `put ${key}: bytes must be a Uint8Array`, {
        details: { object: key },
      });
    }
    const expected = options.crc32;
    if (expected !== undefined && (!Number.isInteger(expected) || expected < 0 || expected > 0xffff_ffff)) {
      throw new WalError("WAL_INVALID_ARGUMENT", `put ${key}: crc32 must be an unsigned 32-bit integer`, {
        details: { object: key },
      });
    }
    startCall(options.signal, `put ${key}`, key);
    // Registered before the checksum is checked (which awaits), so puts of one key run in the order they were called.
    const previous = this.#putting.get(key);
    const done = (async () => {
      if (previous !== undefined) await previous.catch(() => undefined);
      if (expected !== undefined) {
        // In slices: an 8 MiB segment checked in one call would hold the writer's event loop for milliseconds.
        const actual = await crc32InSlices(bytes);
        if (actual !== expected) {
          throw new WalError(
            "WAL_ARCHIVE_CORRUPT",
            `${this.name}: put ${key} refused: the bytes have CRC-32 ${hex(actual)}, the caller expected ${hex(expected)}`,
            { details: { object: key } },
          );
        }
      }
      await this.#put(key, bytes, options.signal);
    })();
    this.#putting.set(key, done);
    try {
      await done;
    } catch (error) {
      throw abortReasonOr(options.signal, error); // the checksum's refusal too, once the caller has abandoned the put
    } finally {
      if (this.#putting.get(key) === done) this.#putting.delete(key);
    }
  }

  async #put(key: string, bytes: Uint8Array, signal: AbortSignal | undefined): Promise<void> {
    const fs = this.#fs;
    const path = this.#pathOf(key);
    const parent = dirname(path);
    signal?.throwIfAborted();
    try {
      const existing = await this.#read(path);
      if (existing !== null) {
        if (!sameBytes(existing, bytes)) {
          throw new WalError(
            "WAL_INVALID_ARGUMENT",
            `${this.name}: ${key} exists with other bytes (${existing.byteLength} bytes, this put has ${bytes.byteLength}); archived objects are immutable`,
            { details: { object: key } },
          );
        }
        // A put that crashed after its rename but before the directory fsync leaves the object visible but not
        // durable: make it durable before reporting success.
        const file = await fs.open(path, "read");
        try {
          await file.sync();
        } finally {
          await file.close();
        }
        await fs.syncDir(parent);
        await this.#dirDurable(parent);
        return;
      }
      await this.#dirDurable(parent);
      const tmp = `${path}${TMP_MARK}${randomBytes(6).toString("hex")}`;
      const file = await fs.open(tmp, "createExclusive");
      try {
        try {
          await file.write(bytes, 0);
          await file.sync();
        } finally {
          await file.close();
        }
        signal?.throwIfAborted();
        await fs.rename(tmp, path);
      } catch (error) {
        await fs.unlink(tmp).catch(() => undefined);
        throw error;
      }
      await fs.syncDir(parent);
    } catch (error) {
      this.#durableDirs.delete(parent); // made again, or synced again, by the next put there
      throw this.#failure("put", key, error, signal);
    }
  }

  /** {@link mkdirDurably} once per key directory and store: an existing one's entry is fsynced too. */
  async #dirDurable(dir: string): Promise<void> {
    if (this.#durableDirs.has(dir)) return;
    await mkdirDurably(this.#fs, dir);
    this.#durableDirs.add(dir);
  }

  async get(key: string, given: ArchiveCallOptions = {}): Promise<Uint8Array | null> {
    assertObjectKey(key);
    const options = checkCallOptions(given, "get", `get ${key}`);
    startCall(options.signal, `get ${key}`, key);
    try {
      return await this.#read(this.#pathOf(key));
    } catch (error) {
      throw this.#failure("get", key, error, options.signal);
    }
  }

  async list(prefix = "", given: ArchiveCallOptions = {}): Promise<ArchiveObjectInfo[]> {
    assertStorePrefix(prefix);
    const options = checkCallOptions(given, "list", `list ${prefix}`);
    startCall(options.signal, `list ${prefix}`, prefix);
    // Walk from the deepest directory the prefix names whole ("a/b" → "a", "a/b/" → "a/b").
    const slash = prefix.lastIndexOf("/");
    const base = slash < 0 ? "" : prefix.slice(0, slash);
    const out: ArchiveObjectInfo[] = [];
    try {
      await this.#walk(base, prefix, out, options.signal);
    } catch (error) {
      throw this.#failure("list", prefix, error, options.signal);
    }
    return out.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  }

  async delete(key: string, given: ArchiveCallOptions = {}): Promise<void> {
    assertObjectKey(key);
    const options = checkCallOptions(given, "delete", `delete ${key}`);
    startCall(options.signal, `delete ${key}`, key);
    const path = this.#pathOf(key);
    try {
      const stat = await this.#fs.stat(path);
      if (stat === null || !stat.isFile) return;
      try {
        await this.#fs.unlink(path);
      } catch (error) {
        if (isMissingFileError(error)) return; // deleted meanwhile
        throw error;
      }
      await this.#fs.syncDir(dirname(path));
    } catch (error) {
      throw this.#failure("delete", key, error, options.signal);
    }
  }

  /**
   * The archive directory when it does not exist (what makes `list` answer nothing), else `undefined`: restore and
   * verifyArchive name it rather than call the archive empty.
   */
  async [missingArchiveDir](): Promise<string | undefined> {
    return (await this.#fs.stat(this.dir)) === null ? this.dir : undefined;
  }

  #pathOf(key: string): string {
    return join(this.dir, ...key.split("/"));
  }

  /** The whole file at `path`, or `null` when there is no file there. */
  async #read(path: string): Promise<Uint8Array | null> {
    const stat = await this.#fs.stat(path);
    if (stat === null || !stat.isFile) return null;
    let file: Awaited<ReturnType<WalFileSystem["open"]>>;
    try {
      file = await this.#fs.open(path, "read");
    } catch (error) {
      if (isMissingFileError(error)) return null; // deleted meanwhile
      throw error;
    }
    try {
      const size = await file.size();
      const bytes = new Uint8Array(size);
      let got = 0;
      while (got < size) {
        const n = await file.read(bytes, got, size - got, got);
        if (n === 0) break;
        got += n;
      }
      return got === size ? bytes : bytes.subarray(0, got);
    } finally {
      await file.close();
    }
  }

  async #walk(rel: string, prefix: string, out: ArchiveObjectInfo[], signal: AbortSignal | undefined): Promise<void> {
    const path = rel === "" ? this.dir : this.#pathOf(rel);
    let names: string[];
    try {
      names = await this.#fs.readdir(path);
    } catch (error) {
      const errno = errnoOf(error);
      // No such directory: nothing under it. But an archive directory that is a file (or under one) is a wrong
      // path, not an empty archive: listed as empty, a restore would report the archive short of its target.
      if (errno === "ENOENT") return;
      if (errno === "ENOTDIR" && rel !== "" && (await this.#rootIsDirectory())) return;
      throw error;
    }
    for (const name of names) {
      signal?.throwIfAborted();
      if (name.includes(TMP_MARK)) continue;
      const key = rel === "" ? name : `${rel}/${name}`;
      // Skip subtrees that cannot hold a key with the prefix.
      if (!key.startsWith(prefix) && !prefix.startsWith(`${key}/`)) continue;
      const stat = await this.#fs.stat(join(path, name));
      if (stat === null) continue; // removed meanwhile
      if (stat.isDirectory) await this.#walk(key, prefix, out, signal);
      else if (stat.isFile && key.startsWith(prefix) && isStoreKey(key)) out.push({ key, size: stat.size });
    }
  }

  /**
   * Whether the archive directory is one, or is not there yet (a file there, or above it, is neither). The seam's
   * `stat` resolves `null` for a path under a file (ENOTDIR) as for a missing one, so a `null` is told apart by
   * `readdir`'s errno; `stat` first, so a directory that may be searched but not read still counts as one. Any other
   * failure is thrown.
   */
  async #rootIsDirectory(): Promise<boolean> {
    const stat = await this.#fs.stat(this.dir);
    if (stat !== null) return stat.isDirectory;
    try {
      await this.#fs.readdir(this.dir);
      return true; // made meanwhile
    } catch (error) {
      const errno = errnoOf(error);
      if (errno === "ENOENT") return true;
      if (errno === "ENOTDIR") return false;
      throw error;
    }
  }

  /**
   * An error of a store call as the seam reports it: `WAL_IO` naming the object, the seam's message and details, the
   * Node error as `cause` (built by `storeIoError`, as the other stores' are). Once the signal has aborted, its reason
   * is what the call rejects with, as it is (a caller's own `WAL_IO` as the reason is not an I/O failure of this
   * store), whether the seam failed after the abort or before it: the caller has abandoned the call.
   */
  #failure(op: string, key: string, error: unknown, signal: AbortSignal | undefined): unknown {
    if (signal?.aborted === true) return signal.reason;
    if (!isWalError(error) || error.code !== "WAL_IO") return error; // our own refusals
    return storeIoError(this.name, op, key, error.cause ?? error, error.message, error.details);
  }
}

function assertObjectKey(key: unknown): asserts key is string {
  assertStoreKey(key);
  const last = key.slice(key.lastIndexOf("/") + 1);
  if (last.includes(TMP_MARK)) {
    throw new WalError(
      "WAL_INVALID_ARGUMENT",
      `invalid archive key ${JSON.stringify(key)}: names containing "${TMP_MARK}" are the directory store's temporary files`,
      { details: { object: key } },
    );
  }
}

function isStoreKey(key: string): boolean {
  try {
    assertStoreKey(key);
    return true;
  } catch {
    return false;
  }
}

function hex(n: number): string {
  return (n >>> 0).toString(16).padStart(8, "0");
}
