/**
 * The file-system seam: exactly the operations the log needs, nothing more. `@lora/wal-segment` ships a Node
 * implementation ({@link createNodeFileSystem}) and an in-memory one for crash testing (`SimFS`, in
 * `@lora/wal-segment/testing`); both pass the same conformance suite.
 *
 * Contract for implementations:
 * - Every failure is a `WalError` with code `WAL_IO`, the original error as `cause`, and `details.errno` (e.g.
 *   `"ENOENT"`, `"EEXIST"`, `"EIO"`, `"ENOSPC"`), `details.syscall` and `details.path` filled in.
 * - `write` completes short writes before it resolves; a failure part-way may leave a prefix written.
 * - A caller's mistake is refused with `WAL_INVALID_ARGUMENT` before the file is touched: a read or write position,
 *   buffer offset or length that is not a non-negative safe integer, a read that does not fit in its buffer, a
 *   truncation length that is not a non-negative safe integer, an unknown open mode.
 * - Paths are absolute or relative strings joined with `node:path`; directories use `/` separators.
 */

/** How to open a file. */
export type OpenMode =
  /** Read only; the file must exist. */
  | "read"
  /** Read and write; the file must exist. */
  | "readWrite"
  /** Read and write; the file must NOT exist (create exclusively, never clobber). */
  | "createExclusive"
  /** Read and write; created empty if missing, never truncated. */
  | "openOrCreate";

/** What {@link WalFileSystem.stat} reports. */
export interface FileStat {
  readonly size: number;
  readonly isFile: boolean;
  readonly isDirectory: boolean;
  /**
   * Optional: which file the path names, as an opaque string compared whole. The same for every name of one file
   * (a hard link), kept when the file is renamed, and the same as {@link WalFile.identity} of a handle open on it;
   * another file gets another one for as long as both exist (a file a handle still holds open exists, named or not),
   * so a file created at a path that named another, removed or moved aside, has another identity. The Node seam
   * reports the device and inode (`"<dev>:<ino>"`), SimFS an id per file. A seam that cannot tell files apart
   * leaves it out (and `WalFile.identity` too): callers then tell a file by what it holds, which cannot tell two
   * files holding the same bytes apart (see `SegmentReader.atPath`).
   */
  readonly identity?: string;
}

/** An open file. Positions are byte offsets from the start of the file. */
export interface WalFile {
  readonly path: string;
  /**
   * Read up to `length` bytes at `position` into `buffer[offset..]`; resolves with the count read (0 at EOF).
   * Reads fewer bytes only at end of file.
   */
  read(buffer: Uint8Array, offset: number, length: number, position: number): Promise<number>;
  /**
   * Optional: the same as `read`, synchronously (a blocking `pread`, short reads continued until end of file). A
   * follower uses it for the 40-byte durable mark to skip a thread-pool round trip per wake-up; implementations that
   * cannot block leave it out.
   */
  readSync?(buffer: Uint8Array, offset: number, length: number, position: number): number;
  /** Write all of `data` at `position`, extending the file if needed. */
  write(data: Uint8Array, position: number): Promise<void>;
  /**
   * Optional: the same as `write`, synchronously (a blocking `pwrite`, short writes completed). A writer uses it
   * for small buffers to skip a thread-pool round trip; implementations that cannot block leave it out.
   */
  writeSync?(data: Uint8Array, position: number): void;
  /** fdatasync: the file's data (and the size needed to read it) reach stable storage. */
  datasync(): Promise<void>;
  /**
   * Optional: the same as `datasync`, blocking the calling thread until the data is stable. Used for the sync rounds
   * a handle runs blocking (`blockingSync`, `"auto"` by default); implementations that cannot block leave it out,
   * and every round then runs `datasync`.
   */
  datasyncSync?(): void;
  /** fsync: data and all metadata reach stable storage. */
  sync(): Promise<void>;
  /**
   * Set the file's length (cut or zero-extend). Not durable until the next sync. A length that is not a
   * non-negative safe integer is refused with `WAL_INVALID_ARGUMENT`, the file unchanged.
   */
  truncate(length: number): Promise<void>;
  /** Current length of the file. */
  size(): Promise<number>;
  /**
   * Optional: the same as `size`, synchronously (a blocking `fstat`). A reader at the live end of a segment uses it,
   * with `readSync`, to look at a few new bytes without two thread-pool round trips per wake-up; implementations
   * that cannot block leave it out.
   */
  sizeSync?(): number;
  /**
   * Optional: the open file's identity, the one {@link FileStat.identity} reports for a path that names it (an
   * `fstat`). A file keeps it while open, whatever happens to its names. A seam should offer this exactly when its
   * `stat` reports an identity: a caller compares identities only when it has both, and tells a file by what it holds
   * otherwise.
   */
  identity?(): Promise<string>;
  /** Release the file. Idempotent; any other call after it fails with `WAL_IO`, `details.errno` `"EBADF"`. */
  close(): Promise<void>;
  /** The OS file descriptor where one exists (used for `flock`); undefined for in-memory files. */
  readonly fd?: number;
}

/**
 * The operations the log performs on files and directories. Every method rejects with a `WalError` `WAL_IO` on
 * failure (the Node error as `cause`, `details.errno`/`syscall`/`path` set); see the module comment for the contract.
 */
export interface WalFileSystem {
  /** A short name for diagnostics (`"node"`, `"sim"`). */
  readonly name: string;
  /** Open a file as `mode` says (`ENOENT` for a missing file, `EEXIST` for `createExclusive` on an existing one). */
  open(path: string, mode: OpenMode): Promise<WalFile>;
  /** Create a directory and its parents; no error when it exists. */
  mkdirp(path: string): Promise<void>;
  /** Names of the entries of a directory (no `.`/`..`), in no particular order. */
  readdir(path: string): Promise<string[]>;
  /** Stat a path; resolves `null` when it does not exist (`ENOENT`, or `ENOTDIR`: a file on the way). */
  stat(path: string): Promise<FileStat | null>;
  /**
   * Atomically rename within one directory; replaces the target. When `from` and `to` are two names of one file
   * (hard links), nothing is done and both names stay, as POSIX `rename(2)` says. Not durable until the directory is
   * fsynced.
   */
  rename(from: string, to: string): Promise<void>;
  /** Remove a file. Not durable until the directory is fsynced. */
  unlink(path: string): Promise<void>;
  /**
   * Give the file `existing` a second name, `newPath` (a hard link), atomically: `newPath` names the whole file at
   * once or not at all. `EEXIST` when `newPath` exists (a file or a directory), left as it is: unlike `rename`, this
   * never replaces. `ENOENT` when `existing` does not exist. Not durable until the directory of `newPath` is fsynced.
   * Optional: a call that must publish a file whole under a name another caller may take first uses it (an
   * invalidation marker), and without it (or on a file system that refuses hard links: `EPERM`, `ENOTSUP`,
   * `ENOSYS`) creates that name exclusively and writes it after. Only with it is such a file whole whenever its name
   * exists: without it, a caller racing the writer, or a crash before the body's fsync, can see the name with a body
   * not yet written (a slot's invalidation marker then still means "invalidated", its details unreadable). A seam
   * that wraps another should forward it, present exactly when the wrapped seam has it.
   */
  link?(existing: string, newPath: string): Promise<void>;
  /** fsync a directory so its entries (creations, renames, removals) are durable. */
  syncDir(path: string): Promise<void>;
  /**
   * Remove an empty directory (`ENOTEMPTY` when it has entries, `ENOENT` when it is missing). Not durable until its
   * parent is fsynced. Optional: only a call that must undo a directory it created uses it (a refused restore), and
   * with a seam that lacks it that directory stays, empty.
   */
  rmdir?(path: string): Promise<void>;
}
