/**
 * Tier D, step 2: an `strace -f -ttt -xx -s 65536 -e abbrev=none` trace turned into logical file-system operations
 * under one root directory: descriptors followed to paths and inodes (openat results, dup, close, renames), writes
 * with their offsets and bytes (pwrite64's offset; write's at the descriptor's position), fsync/fdatasync per inode,
 * directory fsyncs (an fsync on a descriptor opened on a directory), creations, renames, removals, and the writer's
 * acknowledgements (its writes to the ack file).
 */

import { dirname } from "node:path";

export type LogicalOp =
  | { readonly kind: "mkdir"; readonly path: string }
  | { readonly kind: "create"; readonly path: string; readonly ino: number }
  | { readonly kind: "write"; readonly ino: number; readonly offset: number; readonly data: Uint8Array }
  | { readonly kind: "truncate"; readonly ino: number; readonly length: number }
  /** fsync or fdatasync of a file (fdatasync covers the data and the size: all the log needs). */
  | { readonly kind: "fsync"; readonly ino: number; readonly syscall: string }
  | { readonly kind: "dirsync"; readonly path: string }
  | { readonly kind: "rename"; readonly from: string; readonly to: string; readonly ino: number | null }
  | { readonly kind: "unlink"; readonly path: string }
  | { readonly kind: "ack"; readonly lsn: number; readonly index: number }
  | { readonly kind: "ckpt"; readonly s: number };

export interface ParsedTrace {
  readonly ops: LogicalOp[];
  /** Traced system calls (all of them, in and outside the root). */
  readonly syscalls: number;
  /** Operations on paths under the root. */
  readonly relevant: number;
  /** Writes whose bytes strace cut (longer than -s): their data is unknown. */
  readonly truncatedWrites: number;
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

interface FdInfo {
  readonly path: string;
  readonly ino: number | null; // null: a directory
  readonly append: boolean;
  pos: number;
}

/** Parses the trace; `root` is the directory whose files are modelled, `ackPath` the writer's ack file. */
export function parseTrace(trace: string, root: string, ackPath: string): ParsedTrace {
  const pending = new Map<string, string>();
  const calls: string[] = [];
  for (const line of trace.split("\n")) {
    const m = /^(\d+)\s+[\d.]+\s+(.*)$/.exec(line);
    if (m === null) continue;
    const pid = m[1] as string;
    let rest = m[2] as string;
    if (rest.endsWith("<unfinished ...>")) {
      pending.set(pid, rest.slice(0, -"<unfinished ...>".length).trimEnd());
      continue;
    }
    const resumed = /^<\.\.\. \w+ resumed>\s?(.*)$/.exec(rest);
    if (resumed !== null) {
      rest = `${pending.get(pid) ?? ""}${resumed[1] as string}`;
      pending.delete(pid);
    }
    if (rest.startsWith("+++") || rest.startsWith("---")) continue;
    calls.push(rest);
  }

  const ops: LogicalOp[] = [];
  const fds = new Map<number, FdInfo>();
  const names = new Map<string, number>(); // path -> inode (files), the live namespace
  const dirs = new Set<string>([root]);
  const inoNames = new Map<number, string>();
  const sizes = new Map<number, number>();
  let nextIno = 1;
  let relevant = 0;
  let truncatedWrites = 0;
  const inRoot = (p: string | null): p is string => p !== null && (p === root || p.startsWith(`${root}/`));

  for (const call of calls) {
    const m = /^(\w+)\((.*)\)\s+=\s+(-?\d+|\?)/.exec(call);
    if (m === null) continue;
    const name = m[1] as string;
    const args = (m[2] as string).split(", ");
    const ret = Number(m[3]);
    if (!Number.isFinite(ret) || ret < 0) continue;
    const fdArg = Number(args[0]);
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
        const f = fds.get(fdArg);
        if (f === undefined || f.ino === null) break;
        relevant++;
        const data = decode(args[1]);
        if (f.path === ackPath) {
          for (const l of (text(data) ?? "").split("\n")) {
            const a = /^ack (\d+) (\d+)$/.exec(l);
            if (a !== null) ops.push({ kind: "ack", lsn: Number(a[1]), index: Number(a[2]) });
            const k = /^kvack (\d+)$/.exec(l);
            if (k !== null) ops.push({ kind: "ack", lsn: 0, index: Number(k[1]) });
            const c = /^ckpt (\d+)$/.exec(l);
            if (c !== null) ops.push({ kind: "ckpt", s: Number(c[1]) });
          }
          break;
        }
        const size = sizes.get(f.ino) ?? 0;
        const offset = name === "pwrite64" ? Number(args[3]) : f.append ? size : f.pos;
        if (data === null) truncatedWrites++;
        const bytes = (data ?? new Uint8Array(ret)).subarray(0, ret);
        ops.push({ kind: "write", ino: f.ino, offset, data: bytes });
        sizes.set(f.ino, Math.max(size, offset + ret));
        if (name === "write") f.pos = offset + ret;
        break;
      }
      case "fsync":
      case "fdatasync": {
        const f = fds.get(fdArg);
        if (f === undefined) break;
        relevant++;
        if (f.ino === null) ops.push({ kind: "dirsync", path: f.path });
        else if (f.path !== ackPath) ops.push({ kind: "fsync", ino: f.ino, syscall: name });
        break;
      }
      case "ftruncate": {
        const f = fds.get(fdArg);
        if (f === undefined || f.ino === null) break;
        relevant++;
        const length = Number(args[1]);
        ops.push({ kind: "truncate", ino: f.ino, length });
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
      case "close":
        fds.delete(fdArg);
        break;
      case "dup":
      case "dup2":
      case "dup3": {
        const f = fds.get(fdArg);
        fds.delete(ret);
        if (f !== undefined) fds.set(ret, f);
        break;
      }
      default:
        break;
    }
  }
  return { ops, syscalls: calls.length, relevant, truncatedWrites, names: inoNames };
}

/** The directory an entry operation changes. */
export function dirOf(path: string): string {
  return dirname(path);
}
