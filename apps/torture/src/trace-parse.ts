/**
 * Tier D, step 2: an `strace -f -ttt -xx -s 8388608 -e abbrev=none` trace turned into logical file-system operations
 * under one root directory: descriptors followed to paths and inodes (openat results, dup, close, renames), writes
 * with their offsets and bytes (pwrite64's offset; write's at the descriptor's position), fsync/fdatasync per inode,
 * directory fsyncs (an fsync on a descriptor opened on a directory), creations, renames, removals, and the writer's
 * claims (its writes to the ack file: see trace-claims.ts).
 *
 * Operations are ordered by the line where each call completes. A sync also records where it STARTED (`covers`):
 * with the thread pool, a write may complete while an fdatasync on another thread is in flight, and that fdatasync
 * is not known to cover it. Only operations completed before the sync's entry line count as covered.
 */

import { dirname } from "node:path";
import { type Claim, parseClaims } from "./trace-claims.js";
import { recordSpan } from "./trace-records.js";

export type LogicalOp =
  | { readonly kind: "mkdir"; readonly path: string }
  | { readonly kind: "create"; readonly path: string; readonly ino: number }
  | {
      readonly kind: "write";
      readonly ino: number;
      readonly offset: number;
      readonly data: Uint8Array;
      /** The LSNs of the whole log records the bytes hold; null when they are not a run of whole records. */
      readonly records: { readonly first: number; readonly last: number } | null;
    }
  | {
      readonly kind: "truncate";
      readonly ino: number;
      readonly length: number;
      /** The file's size in the trace when the call was made (its writes and truncations so far, in issue order). */
      readonly before: number;
    }
  /**
   * fsync or fdatasync of a file (fdatasync covers the data and the size: all the log needs). It covers the
   * operations before index `covers` (those completed before the call started).
   */
  | { readonly kind: "fsync"; readonly ino: number; readonly syscall: string; readonly covers: number }
  | { readonly kind: "dirsync"; readonly path: string; readonly covers: number }
  | { readonly kind: "rename"; readonly from: string; readonly to: string; readonly ino: number | null }
  | { readonly kind: "unlink"; readonly path: string }
  | Claim;

export interface ParsedTrace {
  readonly ops: LogicalOp[];
  /** Traced system calls (all of them, in and outside the root). */
  readonly syscalls: number;
  /** Operations on paths under the root. */
  readonly relevant: number;
  /** Writes whose bytes strace cut (longer than -s): their data is unknown. */
  readonly truncatedWrites: number;
  /** Calls on the root's files that change them in ways not modelled (writev, fallocate, ...): names. */
  readonly unmodelled: string[];
  /** The inode's path at its creation (for messages). */
  readonly names: Map<number, string>;
}

/** Decodes a `-xx` string argument ("\x2f\x74..."), null when it is not one or was cut ("..."). */
function decode(arg: string | undefined): Uint8Array | null {
  if (arg === undefined || !arg.startsWith('"')) return null;
  const end = arg.lastIndexOf('"');
  if (end <= 0 || arg.slice(end + 1).startsWith("...")) return null;
  const body = arg.slice(1, end);
  const out = new Uint8Array(body.length / 4);
  for (let i = 0; i < out.length; i++) out[i] = Number.parseInt(body.slice(i * 4 + 2, i * 4 + 4), 16);
  return out;
}

const text = (b: Uint8Array | null) => (b === null ? null : Buffer.from(b).toString("utf8"));

/** Calls that change a file's bytes or size in a way the model does not follow: an error when seen in the root. */
const UNMODELLED = new Set(["writev", "pwritev", "pwritev2", "fallocate", "sync_file_range", "copy_file_range"]);

interface FdInfo {
  readonly path: string;
  readonly ino: number | null; // null: a directory
  readonly append: boolean;
  pos: number;
}

/** A completed call and the number of calls completed before it started. */
interface Call {
  readonly text: string;
  readonly startedAfter: number;
}

/**
 * Joins `<unfinished ...>` / `<... resumed>` halves; each call is placed where it completes, except `close`, placed
 * where it starts: the kernel frees the descriptor's number before close returns (it may still be flushing the
 * file), so another thread's open can return that number while the close is unfinished, and the close must not then
 * drop the new descriptor (it did: a spare segment's writes, on a reused number, went missing from the model).
 */
function completedCalls(trace: string): Call[] {
  const pending = new Map<string, { text: string; startedAfter: number } | "placed">();
  const calls: Call[] = [];
  for (const line of trace.split("\n")) {
    const m = /^(\d+)\s+[\d.]+\s+(.*)$/.exec(line);
    if (m === null) continue;
    const pid = m[1] as string;
    const rest = m[2] as string;
    if (rest.endsWith("<unfinished ...>")) {
      const head = rest.slice(0, -"<unfinished ...>".length).trimEnd();
      if (/^close\(\d+$/.test(head)) {
        // Its result does not matter: Linux frees the number even when close reports an error.
        calls.push({ text: `${head}) = 0`, startedAfter: calls.length });
        pending.set(pid, "placed");
      } else pending.set(pid, { text: head, startedAfter: calls.length });
      continue;
    }
    if (rest.startsWith("+++") || rest.startsWith("---")) continue;
    const resumed = /^<\.\.\. \w+ resumed>\s?(.*)$/.exec(rest);
    if (resumed !== null) {
      const start = pending.get(pid);
      pending.delete(pid);
      if (start === "placed") continue;
      calls.push({
        text: `${start?.text ?? ""}${resumed[1] as string}`,
        startedAfter: start?.startedAfter ?? calls.length,
      });
      continue;
    }
    calls.push({ text: rest, startedAfter: calls.length });
  }
  return calls;
}

/**
 * The descriptor table over the trace, with its history: a call on a descriptor is resolved as the table stood when
 * the call started (the kernel resolves the number on entry), not when it completed, since other threads may close
 * and reuse the number meanwhile. Changes take effect at the index of the call that made them (`now`).
 */
class DescriptorTable {
  /** Index of the call being applied. */
  now = 0;
  readonly #history = new Map<number, { readonly at: number; readonly info: FdInfo | undefined }[]>();
  /** Where each descriptor's closes were placed (call indices). */
  readonly #closes = new Map<number, number[]>();

  get(fd: number): FdInfo | undefined {
    return this.#history.get(fd)?.at(-1)?.info;
  }

  set(fd: number, info: FdInfo): void {
    this.#push(fd, info);
  }

  delete(fd: number): void {
    if (this.get(fd) !== undefined) this.#push(fd, undefined);
  }

  close(fd: number): void {
    this.delete(fd);
    const closes = this.#closes.get(fd) ?? [];
    closes.push(this.now);
    this.#closes.set(fd, closes);
  }

  /**
   * The file `fd` named when `call` started. A call still running when a close of its descriptor started is
   * reported in `unmodelled` (a write racing the close of its file: what lands is not known), and resolved as at its
   * start.
   */
  atStart(fd: number, call: Call, name: string, unmodelled: string[], ackPath?: string): FdInfo | undefined {
    const history = this.#history.get(fd);
    let info: FdInfo | undefined;
    if (history !== undefined) {
      for (let i = history.length - 1; i >= 0; i--) {
        const entry = history[i] as { readonly at: number; readonly info: FdInfo | undefined };
        if (entry.at < call.startedAfter) {
          info = entry.info;
          break;
        }
      }
    }
    if (info !== undefined && info.ino !== null && info.path !== ackPath && this.#closedSince(fd, call.startedAfter)) {
      unmodelled.push(`${name} on ${info.path} still running when its descriptor ${fd} was closed`);
    }
    return info;
  }

  /** Whether a close of `fd` was placed at or after call index `from` and before the call being applied. */
  #closedSince(fd: number, from: number): boolean {
    const closes = this.#closes.get(fd);
    if (closes === undefined) return false;
    // Newest first: closes are placed in order, so the scan stops at the first one before `from`.
    for (let i = closes.length - 1; i >= 0; i--) {
      const at = closes[i] as number;
      if (at < from) return false;
      if (at < this.now) return true;
    }
    return false;
  }

  #push(fd: number, info: FdInfo | undefined): void {
    const history = this.#history.get(fd) ?? [];
    history.push({ at: this.now, info });
    this.#history.set(fd, history);
  }
}

/** Parses the trace; `root` is the directory whose files are modelled, `ackPath` the writer's ack file. */
export function parseTrace(trace: string, root: string, ackPath: string): ParsedTrace {
  const calls = completedCalls(trace);
  const ops: LogicalOp[] = [];
  // opsBefore[c]: operations emitted by calls[0..c-1] (a sync that started after call c-1 covers those).
  const opsBefore: number[] = [];
  const fds = new DescriptorTable();
  const names = new Map<string, number>(); // path -> inode (files), the live namespace
  const dirs = new Set<string>([root]);
  const inoNames = new Map<number, string>();
  const sizes = new Map<number, number>();
  const unmodelled: string[] = [];
  let nextIno = 1;
  let relevant = 0;
  let truncatedWrites = 0;
  const inRoot = (p: string | null): p is string => p !== null && (p === root || p.startsWith(`${root}/`));

  for (const [index, call] of calls.entries()) {
    opsBefore.push(ops.length);
    fds.now = index;
    const m = /^(\w+)\((.*)\)\s+=\s+(-?\d+|\?)/.exec(call.text);
    if (m === null) continue;
    const name = m[1] as string;
    const args = (m[2] as string).split(", ");
    const ret = Number(m[3]);
    // Linux frees a descriptor's number whatever close returns (EIO, EINTR): a failed close closes too.
    if (name === "close") {
      fds.close(Number(args[0]));
      continue;
    }
    if (!Number.isFinite(ret) || ret < 0) continue;
    const fdArg = Number(args[0]);
    const covers = () => opsBefore[call.startedAfter] as number;
    if (UNMODELLED.has(name)) {
      const f = fds.atStart(fdArg, call, name, unmodelled, ackPath);
      if (f !== undefined && f.ino !== null && f.path !== ackPath) unmodelled.push(`${name} on ${f.path}`);
      continue;
    }
    switch (name) {
      case "open":
      case "openat": {
        const path = text(decode(name === "open" ? args[0] : args[1]));
        const flags = (name === "open" ? args[1] : args[2]) ?? "";
        fds.delete(ret);
        if (!inRoot(path)) break;
        relevant++;
        if (dirs.has(path) || flags.includes("O_DIRECTORY")) {
          fds.set(ret, { path, ino: null, append: false, pos: 0 });
          break;
        }
        let ino = names.get(path);
        if (ino === undefined) {
          if (!flags.includes("O_CREAT")) break;
          ino = nextIno++;
          names.set(path, ino);
          inoNames.set(ino, path);
          sizes.set(ino, 0);
          if (path !== ackPath) ops.push({ kind: "create", path, ino });
        } else if (flags.includes("O_TRUNC") && path !== ackPath) {
          ops.push({ kind: "truncate", ino, length: 0, before: sizes.get(ino) ?? 0 });
          sizes.set(ino, 0);
        }
        fds.set(ret, { path, ino, append: flags.includes("O_APPEND"), pos: 0 });
        break;
      }
      case "mkdir":
      case "mkdirat": {
        const path = text(decode(name === "mkdir" ? args[0] : args[1]));
        if (!inRoot(path)) break;
        relevant++;
        dirs.add(path);
        ops.push({ kind: "mkdir", path });
        break;
      }
      case "write":
      case "pwrite64": {
        const f = fds.atStart(fdArg, call, name, unmodelled, ackPath);
        if (f === undefined || f.ino === null) break;
        relevant++;
        const data = decode(args[1]);
        if (f.path === ackPath) {
          ops.push(...parseClaims(text(data) ?? ""));
          break;
        }
        const size = sizes.get(f.ino) ?? 0;
        const offset = name === "pwrite64" ? Number(args[3]) : f.append ? size : f.pos;
        if (data === null) truncatedWrites++;
        const bytes = (data ?? new Uint8Array(ret)).subarray(0, ret);
        ops.push({ kind: "write", ino: f.ino, offset, data: bytes, records: data === null ? null : recordSpan(bytes) });
        sizes.set(f.ino, Math.max(size, offset + ret));
        if (name === "write") f.pos = offset + ret;
        break;
      }
      case "fsync":
      case "fdatasync": {
        const f = fds.atStart(fdArg, call, name, unmodelled, ackPath);
        if (f === undefined) break;
        relevant++;
        if (f.ino === null) ops.push({ kind: "dirsync", path: f.path, covers: covers() });
        else if (f.path !== ackPath) ops.push({ kind: "fsync", ino: f.ino, syscall: name, covers: covers() });
        break;
      }
      case "ftruncate": {
        const f = fds.atStart(fdArg, call, name, unmodelled, ackPath);
        if (f === undefined || f.ino === null) break;
        relevant++;
        const length = Number(args[1]);
        ops.push({ kind: "truncate", ino: f.ino, length, before: sizes.get(f.ino) ?? 0 });
        sizes.set(f.ino, length);
        break;
      }
      case "rename":
      case "renameat":
      case "renameat2": {
        const from = text(decode(name === "rename" ? args[0] : args[1]));
        const to = text(decode(name === "rename" ? args[1] : args[3]));
        if (!inRoot(from) || !inRoot(to)) break;
        relevant++;
        const ino = names.get(from);
        names.delete(from);
        if (ino !== undefined) names.set(to, ino);
        ops.push({ kind: "rename", from, to, ino: ino ?? null });
        break;
      }
      case "unlink":
      case "unlinkat": {
        const path = text(decode(name === "unlink" ? args[0] : args[1]));
        if (!inRoot(path)) break;
        relevant++;
        names.delete(path);
        ops.push({ kind: "unlink", path });
        break;
      }
      case "dup":
      case "dup2":
      case "dup3": {
        const f = fds.atStart(fdArg, call, name, unmodelled, ackPath);
        // dup2/dup3 onto a live descriptor closes it first.
        if (fds.get(ret) !== undefined) fds.close(ret);
        if (f !== undefined) fds.set(ret, f);
        break;
      }
      default:
        break;
    }
  }
  return { ops, syscalls: calls.length, relevant, truncatedWrites, unmodelled, names: inoNames };
}

/** The directory an entry operation changes. */
export function dirOf(path: string): string {
  return dirname(path);
}
