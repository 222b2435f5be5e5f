/**
 * The Node implementation of the file-system seam, over raw file descriptors and `node:fs` callbacks (measurably
 * cheaper per call than `FileHandle` promises: the writer calls write + fdatasync once per commit).
 */

import * as fs from "node:fs";
import { errnoOf, shownValue, WalError } from "@lora/wal-codec";
import { checkReadArguments, checkTruncateLength, checkWriteArguments } from "../internal/io-arguments.js";
import { ioError } from "../internal/io-error.js";
import type { FileStat, OpenMode, WalFile, WalFileSystem } from "./file-system.js";

const { O_RDONLY, O_RDWR, O_CREAT, O_EXCL } = fs.constants;

const FLAGS: Readonly<Record<OpenMode, number>> = {
  read: O_RDONLY,
  readWrite: O_RDWR,
  createExclusive: O_RDWR | O_CREAT | O_EXCL,
  // Not "a+": on Linux O_APPEND makes every pwrite land at the end of the file.
  openOrCreate: O_RDWR | O_CREAT,
};

const FILE_MODE = 0o666;
const IS_WIN32 = process.platform === "win32";

function badFd(path: string, syscall: string): Error {
  const err = new Error(`EBADF: bad file descriptor, ${syscall} '${path}' (file closed)`) as Error & { code: string };
  err.code = "EBADF";
  return err;
}

function openFd(path: string, flags: number): Promise<number> {
  return new Promise((resolve, reject) => {
    fs.open(path, flags, FILE_MODE, (err, fd) => (err ? reject(ioError(err, "open", path)) : resolve(fd)));
  });
}

function fsyncFd(fd: number, path: string): Promise<void> {
  return new Promise((resolve, reject) => {
    fs.fsync(fd, (err) => (err ? reject(ioError(err, "fsync", path)) : resolve()));
  });
}

/**
 * A file's identity from its stats: the device and the inode, which no two files that exist at once share. Read as
 * bigints: an inode number may not fit a double exactly (64-bit inode numbers: XFS, NFS file ids), and two files
 * whose numbers round to one double would look like one.
 */
function identityOf(st: fs.BigIntStats): string {
  return `${st.dev}:${st.ino}`;
}

function closeFd(fd: number, path: string): Promise<void> {
  return new Promise((resolve, reject) => {
    fs.close(fd, (err) => (err ? reject(ioError(err, "close", path)) : resolve()));
  });
}

class NodeWalFile implements WalFile {
  readonly path: string;
  readonly fd: number;
  #closed = false;

  constructor(path: string, fd: number) {
    this.path = path;
    this.fd = fd;
  }

  read(buffer: Uint8Array, offset: number, length: number, position: number): Promise<number> {
    try {
      checkReadArguments(this.path, buffer, offset, length, position);
    } catch (error) {
      return Promise.reject(error);
    }
    if (this.#closed) return Promise.reject(ioError(badFd(this.path, "read"), "read", this.path));
    const { fd, path } = this;
    return new Promise((resolve, reject) => {
      let done = 0;
      // Loop so a short read means end of file, as the seam promises (the kernel may cap one read).
      const step = (err: NodeJS.ErrnoException | null, n: number): void => {
        if (err) {
          reject(ioError(err, "read", path));
          return;
        }
        done += n;
        if (n === 0 || done >= length) resolve(done);
        else fs.read(fd, buffer, offset + done, length - done, position + done, step);
      };
      if (length <= 0) resolve(0);
      else fs.read(fd, buffer, offset, length, position, step);
    });
  }

  write(data: Uint8Array, position: number): Promise<void> {
    try {
      // Before the call: fs.write takes a bad position for "at the descriptor's offset" (0: over the header).
      checkWriteArguments(this.path, data, position);
    } catch (error) {
      return Promise.reject(error);
    }
    if (this.#closed) return Promise.reject(ioError(badFd(this.path, "write"), "write", this.path));
    const { fd, path } = this;
    // byteLength, not length: `fs.write` takes any typed array or DataView from plain JavaScript, and counts bytes.
    const length = data.byteLength;
    return new Promise((resolve, reject) => {
      let done = 0;
      // Complete short writes: a pwrite may write fewer bytes than asked (signals, quotas, huge buffers).
      const step = (err: NodeJS.ErrnoException | null, n: number): void => {
        if (err) {
          reject(ioError(err, "write", path));
          return;
        }
        done += n;
        if (done >= length) resolve();
        else fs.write(fd, data, done, length - done, position + done, step);
      };
      if (length === 0) resolve();
      else fs.write(fd, data, 0, length, position, step);
    });
  }

  readSync(buffer: Uint8Array, offset: number, length: number, position: number): number {
    checkReadArguments(this.path, buffer, offset, length, position);
    if (this.#closed) throw ioError(badFd(this.path, "read"), "read", this.path);
    let done = 0;
    try {
      // As `read`: a short read means end of file.
      while (done < length) {
        const n = fs.readSync(this.fd, buffer, offset + done, length - done, position + done);
        if (n === 0) break;
        done += n;
      }
    } catch (err) {
      throw ioError(err, "read", this.path);
    }
    return done;
  }

  writeSync(data: Uint8Array, position: number): void {
    checkWriteArguments(this.path, data, position);
    if (this.#closed) throw ioError(badFd(this.path, "write"), "write", this.path);
    let done = 0;
    try {
      const length = data.byteLength; // once per call: see `write`
      while (done < length) done += fs.writeSync(this.fd, data, done, length - done, position + done);
    } catch (err) {
      throw ioError(err, "write", this.path);
    }
  }

  datasync(): Promise<void> {
    if (this.#closed) return Promise.reject(ioError(badFd(this.path, "fdatasync"), "fdatasync", this.path));
    return new Promise((resolve, reject) => {
      fs.fdatasync(this.fd, (err) => (err ? reject(ioError(err, "fdatasync", this.path)) : resolve()));
    });
  }

  datasyncSync(): void {
    if (this.#closed) throw ioError(badFd(this.path, "fdatasync"), "fdatasync", this.path);
    try {
      fs.fdatasyncSync(this.fd);
    } catch (err) {
      throw ioError(err, "fdatasync", this.path);
    }
  }

  sync(): Promise<void> {
    if (this.#closed) return Promise.reject(ioError(badFd(this.path, "fsync"), "fsync", this.path));
    return fsyncFd(this.fd, this.path);
  }

  truncate(length: number): Promise<void> {
    // Node clamps a negative length to 0 (the whole file cut) and throws a plain RangeError for a fraction: a
    // caller's mistake is refused here instead, with the file untouched, as SimFS refuses it.
    try {
      checkTruncateLength(length);
    } catch (error) {
      return Promise.reject(error);
    }
    if (this.#closed) return Promise.reject(ioError(badFd(this.path, "ftruncate"), "ftruncate", this.path));
    return new Promise((resolve, reject) => {
      fs.ftruncate(this.fd, length, (err) => (err ? reject(ioError(err, "ftruncate", this.path)) : resolve()));
    });
  }

  size(): Promise<number> {
    if (this.#closed) return Promise.reject(ioError(badFd(this.path, "fstat"), "fstat", this.path));
    return new Promise((resolve, reject) => {
      fs.fstat(this.fd, (err, st) => (err ? reject(ioError(err, "fstat", this.path)) : resolve(st.size)));
    });
  }

  identity(): Promise<string> {
    if (this.#closed) return Promise.reject(ioError(badFd(this.path, "fstat"), "fstat", this.path));
    return new Promise((resolve, reject) => {
      fs.fstat(this.fd, { bigint: true }, (err, st) =>
        err ? reject(ioError(err, "fstat", this.path)) : resolve(identityOf(st)),
      );
    });
  }

  sizeSync(): number {
    if (this.#closed) throw ioError(badFd(this.path, "fstat"), "fstat", this.path);
    try {
      return fs.fstatSync(this.fd).size;
    } catch (err) {
      throw ioError(err, "fstat", this.path);
    }
  }

  close(): Promise<void> {
    // Idempotent on purpose: closing a raw fd twice could close an unrelated file that reused the number.
    if (this.#closed) return Promise.resolve();
    this.#closed = true;
    return closeFd(this.fd, this.path);
  }
}

class NodeFileSystem implements WalFileSystem {
  readonly name = "node";

  async open(path: string, mode: OpenMode): Promise<WalFile> {
    // Own keys only: "constructor" or "toString" must not find Object.prototype's. A string first: hasOwn converts
    // its key with the value's toString, which throws for a null-prototype object.
    if (typeof mode !== "string" || !Object.hasOwn(FLAGS, mode))
      throw new WalError("WAL_INVALID_ARGUMENT", `unknown open mode ${shownValue(mode)}`);
    const flags = FLAGS[mode];
    return new NodeWalFile(path, await openFd(path, flags));
  }

  mkdirp(path: string): Promise<void> {
    return new Promise((resolve, reject) => {
      fs.mkdir(path, { recursive: true }, (err) => (err ? reject(ioError(err, "mkdir", path)) : resolve()));
    });
  }

  readdir(path: string): Promise<string[]> {
    return new Promise((resolve, reject) => {
      fs.readdir(path, (err, names) => (err ? reject(ioError(err, "scandir", path)) : resolve(names)));
    });
  }

  stat(path: string): Promise<FileStat | null> {
    return new Promise((resolve, reject) => {
      fs.stat(path, { bigint: true }, (err, st) => {
        if (err) {
          const errno = errnoOf(err);
          if (errno === "ENOENT" || errno === "ENOTDIR") return resolve(null);
          return reject(ioError(err, "stat", path));
        }
        resolve({
          size: Number(st.size),
          isFile: st.isFile(),
          isDirectory: st.isDirectory(),
          identity: identityOf(st),
        });
      });
    });
  }

  rename(from: string, to: string): Promise<void> {
    return new Promise((resolve, reject) => {
      fs.rename(from, to, (err) => (err ? reject(ioError(err, "rename", from)) : resolve()));
    });
  }

  unlink(path: string): Promise<void> {
    return new Promise((resolve, reject) => {
      fs.unlink(path, (err) => (err ? reject(ioError(err, "unlink", path)) : resolve()));
    });
  }

  link(existing: string, newPath: string): Promise<void> {
    return new Promise((resolve, reject) => {
      fs.link(existing, newPath, (err) => (err ? reject(ioError(err, "link", newPath)) : resolve()));
    });
  }

  rmdir(path: string): Promise<void> {
    return new Promise((resolve, reject) => {
      fs.rmdir(path, (err) => (err ? reject(ioError(err, "rmdir", path)) : resolve()));
    });
  }

  async syncDir(path: string): Promise<void> {
    // Windows cannot open a directory for fsync and NTFS makes entries durable with the metadata journal.
    if (IS_WIN32) return;
    const fd = await openFd(path, O_RDONLY);
    try {
      await fsyncFd(fd, path);
    } finally {
      await closeFd(fd, path);
    }
  }
}

/**
 * The file-system seam over the real file system (`node:fs`, raw file descriptors).
 *
 * @remarks
 * - `write` completes short writes; `datasync` is `fdatasync(2)`, `sync` is `fsync(2)`.
 * - `syncDir` opens the directory read-only and `fsync`s it, which makes creations, renames and removals in it
 *   durable. On win32 it is a no-op (directories cannot be fsynced there).
 * - `openOrCreate` is `O_RDWR | O_CREAT` (never truncates, never appends); `createExclusive` adds `O_EXCL`.
 * - `WalFile.fd` is the descriptor (for `flock`). `close()` is idempotent; other calls after it fail with `EBADF`.
 * - `stat` resolves `null` for `ENOENT` and `ENOTDIR`. Its `identity`, and `WalFile.identity()` (an `fstat`), are
 *   the device and inode, `"<dev>:<ino>"`.
 * - `link` is `link(2)` (`EEXIST` when the new name exists; `details.path` is the new name).
 * - `read`, `readSync`, `write` and `writeSync` refuse a position, offset or length that is not a non-negative safe
 *   integer, or a read that does not fit in its buffer, with `WAL_INVALID_ARGUMENT` (`fs.write` would write at the
 *   descriptor's own offset instead).
 * - `truncate` refuses a length that is not a non-negative safe integer with `WAL_INVALID_ARGUMENT`, the file
 *   unchanged (`ftruncate` itself would cut the file to 0 for a negative one).
 * - Its methods are own properties, bound: a wrapper written as `{ ...createNodeFileSystem(), open }` keeps them.
 *
 * @throws {@link @lora/wal-codec!WalError} `WAL_IO` for every failure, with the Node error as `cause` and
 *   `details.errno`/`syscall`/`path` filled in.
 */
export function createNodeFileSystem(): WalFileSystem {
  const fs = new NodeFileSystem();
  return {
    name: fs.name,
    open: fs.open.bind(fs),
    mkdirp: fs.mkdirp.bind(fs),
    readdir: fs.readdir.bind(fs),
    stat: fs.stat.bind(fs),
    rename: fs.rename.bind(fs),
    unlink: fs.unlink.bind(fs),
    link: fs.link.bind(fs),
    syncDir: fs.syncDir.bind(fs),
    rmdir: fs.rmdir.bind(fs),
  };
}
