/**
 * Tier D, steps 2-4: crash states of a parsed trace under two persistence models, and the static checks.
 *
 * Crash point k: the operations before k were issued, the ones from k on never were. An operation is FORCED when a
 * later sync before k, started after it completed, covers it: a write or truncate by an fsync/fdatasync of its inode, a creation, rename, removal
 * or mkdir by an fsync of its directory. Forced operations are in every state; the others may be missing:
 *
 * - strict: any subset of the unforced operations persists (reordering allowed), and a persisted unforced write may
 *   be torn at 512-byte sectors (any subset of its sectors lands).
 * - ordered (ext4 data=ordered-like): the unforced operations persist as a prefix in issue order (appends in order
 *   with the metadata, a rename after the data before it), the last one of the prefix possibly torn at a sector
 *   boundary (a prefix of its sectors): unsynced data may still be lost at the tail.
 *
 * Enumeration is bounded by count: ordered takes every prefix (and one torn variant each); strict takes the empty
 * and full subsets and `strictSamples` seeded subsets with seeded sector tears per crash point.
 *
 * A lost cut: a file system cutting a file to a length inside a 4 KiB block zeroes the rest of that block first, and
 * the block can reach the disk while the new length does not (ext4, xfs; SimFS's `tailZeroed`). For each of the
 * newest `LOST_CUTS_PER_POINT` unforced truncates that shrank their file to such a length, both models also take
 * that image (the old length, the cut's block zeroed from the cut on): ordered, the prefix ending at the cut and the
 * prefix through the file's last later operation; strict, the cut alone and with the file's later unforced operations.
 *
 * Directories made with mkdir (the WAL directory, the kv-store's) are assumed durable: a mkdir without an fsync of
 * its parent is reported by the static checks (`mkdirWithoutParentSync`), not enumerated.
 */

import { dirOf, type LogicalOp } from "./trace-parse.js";

export const SECTOR = 512;
/** The block a file system zeroes past a cut inside it (as SimFS's BLOCK_BYTES). */
export const BLOCK = 4096;
/** Lost cuts modelled per crash point (the newest unforced ones). */
export const LOST_CUTS_PER_POINT = 2;

export interface CrashState {
  readonly model: "strict" | "ordered";
  /** Index into ops: the crash happens before ops[point]. */
  readonly point: number;
  /**
   * Persisted operations that change files (indices), each write with the sectors that landed (null: all); a
   * truncate with `sizeLost` kept only the zeroed rest of its cut's block, not its new length (a lost cut).
   */
  readonly persisted: readonly {
    readonly op: number;
    readonly sectors: readonly number[] | null;
    readonly sizeLost?: boolean;
  }[];
  readonly description: string;
}

/** One file of a materialised state: its path and bytes. */
export interface StateFile {
  readonly path: string;
  readonly bytes: Uint8Array;
}

/**
 * Which operations before `point` a sync before `point` covers: a write or truncate by an fsync/fdatasync of its
 * inode that STARTED after it completed (`covers`), a creation, removal, rename or mkdir likewise by an fsync of
 * its directory. Claims change no file and count as forced.
 */
function forcedBefore(ops: readonly LogicalOp[], point: number): boolean[] {
  const inoCover = new Map<number, number>();
  const dirCover = new Map<string, number>();
  for (let j = 0; j < point; j++) {
    const op = ops[j] as LogicalOp;
    if (op.kind === "fsync") inoCover.set(op.ino, Math.max(inoCover.get(op.ino) ?? 0, op.covers));
    else if (op.kind === "dirsync") dirCover.set(op.path, Math.max(dirCover.get(op.path) ?? 0, op.covers));
  }
  const byDir = (i: number, path: string) => i < (dirCover.get(dirOf(path)) ?? 0);
  const forced = new Array<boolean>(point).fill(false);
  for (let i = 0; i < point; i++) {
    const op = ops[i] as LogicalOp;
    switch (op.kind) {
      case "write":
      case "truncate":
        forced[i] = i < (inoCover.get(op.ino) ?? 0);
        break;
      case "create":
      case "unlink":
      case "mkdir":
        forced[i] = byDir(i, op.path);
        break;
      case "rename":
        forced[i] = byDir(i, op.from) && byDir(i, op.to);
        break;
      default:
        forced[i] = true; // syncs themselves, and the writer's claims (they change no file)
    }
  }
  return forced;
}

function sectorCount(op: LogicalOp): number {
  if (op.kind !== "write") return 0;
  const first = Math.floor(op.offset / SECTOR);
  const last = Math.floor((op.offset + op.data.byteLength - 1) / SECTOR);
  return last - first + 1;
}

/** Deterministic PRNG (mulberry32). */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A truncate that shrank its file (in the trace) to a length inside a block: the cut a lost size can leave zeroed. */
function cutsInBlock(op: LogicalOp): boolean {
  return op.kind === "truncate" && op.length < op.before && op.length % BLOCK !== 0;
}

/** The file a write or truncate changes (null for other operations). */
function inoOf(op: LogicalOp): number | null {
  return op.kind === "write" || op.kind === "truncate" ? op.ino : null;
}

function changesFiles(op: LogicalOp): boolean {
  return (
    op.kind === "create" ||
    op.kind === "write" ||
    op.kind === "truncate" ||
    op.kind === "rename" ||
    op.kind === "unlink"
  );
}

/** The crash states at `point` under both models (bounded, seeded). */
export function crashStatesAt(
  ops: readonly LogicalOp[],
  point: number,
  seed: number,
  strictSamples: number,
): CrashState[] {
  const forced = forcedBefore(ops, point);
  const always: number[] = [];
  const free: number[] = [];
  for (let i = 0; i < point; i++) {
    const op = ops[i] as LogicalOp;
    // Only what changes a file is listed: syncs and claims change none, and the writer's directories (mkdir) are
    // in every state (see above). So two points with the same files persisted give the same list.
    if (!changesFiles(op)) continue;
    if (forced[i]) always.push(i);
    else free.push(i);
  }
  type Persisted = { op: number; sectors: number[] | null; sizeLost?: boolean };
  const whole = (op: number): Persisted => ({ op, sectors: null });
  const alwaysW = always.map(whole);
  const freeW = free.map(whole);
  const out: CrashState[] = [];
  // ordered: every prefix of the free operations, and the last one of it torn to a prefix of its sectors.
  for (let n = 0; n <= free.length; n++) {
    const persisted = mergeByOp(alwaysW, freeW, n);
    out.push({ model: "ordered", point, persisted, description: `ordered: ${n}/${free.length} unsynced ops` });
    const last = free[n - 1];
    if (last !== undefined && sectorCount(ops[last] as LogicalOp) > 1) {
      const cut = Math.max(1, Math.floor(sectorCount(ops[last] as LogicalOp) / 2));
      const sectors = Array.from({ length: cut }, (_, s) => s);
      const torn = persisted.map((p) => (p.op === last ? { op: last, sectors } : p));
      out.push({ model: "ordered", point, persisted: torn, description: `ordered: ${n}/${free.length}, last torn` });
    }
  }
  // strict: none, all, and seeded subsets with seeded sector tears.
  const next = rng(seed ^ Math.imul(point + 1, 0x9e3779b1));
  const subsets: Persisted[][] = [[], freeW];
  for (let s = 0; s < strictSamples && free.length > 0; s++) {
    const pick: Persisted[] = [];
    for (const i of free) {
      if (next() < 0.5) continue;
      const n = sectorCount(ops[i] as LogicalOp);
      if (n > 1 && next() < 0.6) {
        const sectors = Array.from({ length: n }, (_, x) => x).filter(() => next() < 0.5);
        pick.push({ op: i, sectors });
      } else pick.push(whole(i));
    }
    subsets.push(pick);
  }
  for (const sub of subsets) {
    const persisted = mergeByOp(alwaysW, sub, sub.length);
    const torn = sub.filter((p) => p.sectors !== null).map((p) => `${p.op}:[${(p.sectors ?? []).join(",")}]`);
    out.push({
      model: "strict",
      point,
      persisted,
      description: `strict: ${sub.length}/${free.length} unsynced ops${torn.length > 0 ? `, torn ${torn.join(" ")}` : ""}`,
    });
  }
  // Lost cuts (see the module comment): the newest few, each alone and with its file's later unsynced operations.
  const cuts = free.filter((i) => cutsInBlock(ops[i] as LogicalOp));
  for (const c of cuts.slice(Math.max(0, cuts.length - LOST_CUTS_PER_POINT))) {
    const ino = inoOf(ops[c] as LogicalOp);
    const lost: Persisted = { op: c, sectors: null, sizeLost: true };
    const swap = (ps: Persisted[]) => ps.map((p) => (p.op === c ? lost : p));
    const later = free.filter((i) => i > c && inoOf(ops[i] as LogicalOp) === ino);
    const what = `cut op ${c} lost its size (block zeroed)`;
    const at = free.indexOf(c) + 1;
    out.push({
      model: "ordered",
      point,
      persisted: swap(mergeByOp(alwaysW, freeW, at)),
      description: `ordered: ${at}/${free.length} unsynced ops, ${what}`,
    });
    out.push({ model: "strict", point, persisted: mergeByOp(alwaysW, [lost], 1), description: `strict: ${what}` });
    if (later.length === 0) continue;
    const through = free.indexOf(later[later.length - 1] as number) + 1;
    out.push({
      model: "ordered",
      point,
      persisted: swap(mergeByOp(alwaysW, freeW, through)),
      description: `ordered: ${through}/${free.length} unsynced ops, ${what}`,
    });
    out.push({
      model: "strict",
      point,
      persisted: mergeByOp(alwaysW, [lost, ...later.map(whole)], later.length + 1),
      description: `strict: ${what}, with the file's ${later.length} later unsynced ops`,
    });
  }
  return out;
}

/** `a` and the first `n` of `b`, both in operation order, merged in operation order (linear: no sort per state). */
function mergeByOp<T extends { readonly op: number }>(a: readonly T[], b: readonly T[], n: number): T[] {
  const out: T[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length || j < n) {
    if (j >= n || (i < a.length && (a[i] as T).op < (b[j] as T).op)) out.push(a[i++] as T);
    else out.push(b[j++] as T);
  }
  return out;
}

/** The files of a crash state: the namespace and the bytes after applying the persisted operations in order. */
export function materialise(ops: readonly LogicalOp[], state: CrashState): StateFile[] {
  const names = new Map<string, number>();
  const content = new Map<number, FileBytes>();
  const file = (ino: number) => {
    let f = content.get(ino);
    if (f === undefined) {
      f = new FileBytes();
      content.set(ino, f);
    }
    return f;
  };
  for (const { op: i, sectors, sizeLost } of state.persisted) {
    const op = ops[i] as LogicalOp;
    switch (op.kind) {
      case "create":
        names.set(op.path, op.ino);
        file(op.ino);
        break;
      case "rename": {
        const ino = names.get(op.from);
        if (ino === undefined) break;
        names.delete(op.from);
        names.set(op.to, ino);
        break;
      }
      case "unlink":
        names.delete(op.path);
        break;
      case "truncate": {
        const f = file(op.ino);
        // A lost cut: the old length, and zeros from the cut to the end of its block.
        if (sizeLost === true)
          f.bytes.fill(0, op.length, Math.max(op.length, Math.min(f.length, Math.ceil(op.length / BLOCK) * BLOCK)));
        else f.resize(op.length);
        break;
      }
      case "write": {
        const end = op.offset + op.data.byteLength;
        const f = file(op.ino);
        if (end > f.length) f.resize(end);
        if (sectors === null) {
          f.bytes.set(op.data, op.offset);
          break;
        }
        const first = Math.floor(op.offset / SECTOR);
        for (const s of sectors) {
          const lo = Math.max(op.offset, (first + s) * SECTOR);
          const hi = Math.min(end, (first + s + 1) * SECTOR);
          if (hi > lo) f.bytes.set(op.data.subarray(lo - op.offset, hi - op.offset), lo);
        }
        break;
      }
      default:
        break;
    }
  }
  return [...names].map(([path, ino]) => ({ path, bytes: content.get(ino)?.view() ?? new Uint8Array(0) }));
}

/** A file's bytes while a state is built: room grows by doubling, so appends do not copy the file each time. */
class FileBytes {
  bytes = new Uint8Array(0);
  length = 0;
  /** Cut or extend to `size`; an extension reads as zeros (also over bytes an earlier truncation cut). */
  resize(size: number): void {
    if (size > this.bytes.byteLength) {
      const room = new Uint8Array(Math.max(size, this.bytes.byteLength * 2));
      room.set(this.bytes.subarray(0, this.length));
      this.bytes = room;
    } else if (size > this.length) this.bytes.fill(0, this.length, size);
    this.length = size;
  }
  view(): Uint8Array {
    return this.bytes.subarray(0, this.length);
  }
}

/** An fsync/fdatasync with nothing written to its file since the last one; `next`: the file's next write. */
export interface RedundantSync {
  readonly op: number;
  readonly path: string;
  readonly syscall: string;
  readonly next: "header" | "other" | "nothing";
}

export interface StaticFinding {
  readonly kind: "ack-before-datasync" | "entry-without-dir-fsync" | "rename-before-fsync";
  readonly message: string;
}

/** What a durability claim names in messages, and the LSN it claims (null: everything written before it). */
function claimOf(op: LogicalOp): { what: string; lsn: number | null } | null {
  if (op.kind === "ack")
    return {
      what: op.lsn === null ? `ack of put ${op.index}` : `ack of LSN ${op.lsn} (commit ${op.index})`,
      lsn: op.lsn,
    };
  if (op.kind === "synced") return { what: `synced ${op.lsn}`, lsn: op.lsn };
  return null;
}

/**
 * Static checks on the trace (no crash states): before each durability claim (an `ack`, or `synced L`; never a
 * `wrote`, which claims nothing), every write holding records at or below the claimed LSN (and every write of bytes
 * that are not whole records: headers, copies, damage) is covered by an fsync/fdatasync of the same inode that
 * started after the write completed; every creation and rename before it is covered by an fsync of its directory
 * likewise. (A durable commit needs every record before it durable too, and a segment holding them needs its
 * directory entry.) Removals are not required (a leftover truncated segment is recovery's business) and mkdirs are
 * reported separately.
 */
export function staticCheck(
  ops: readonly LogicalOp[],
  names: ReadonlyMap<number, string>,
  ignoreInos: ReadonlySet<number>,
): { findings: StaticFinding[]; mkdirWithoutParentSync: string[]; redundantSyncs: RedundantSync[] } {
  const findings: StaticFinding[] = [];
  const seen = new Set<string>();
  for (let a = 0; a < ops.length; a++) {
    const claim = claimOf(ops[a] as LogicalOp);
    if (claim === null) continue;
    const L = claim.lsn;
    const forced = forcedBefore(ops, a);
    for (let i = 0; i < a; i++) {
      if (forced[i]) continue;
      const op = ops[i] as LogicalOp;
      let f: StaticFinding | null = null;
      const needed = op.kind === "write" && (L === null || op.records === null || op.records.first <= L);
      if (op.kind === "write" && needed && !ignoreInos.has(op.ino))
        f = {
          kind: "ack-before-datasync",
          message: `${claim.what} while the write of ${op.data.byteLength} bytes at ${op.offset} of ${names.get(op.ino) ?? op.ino} (op ${i}${op.records === null ? "" : `, LSNs ${op.records.first}..${op.records.last}`}) has no fsync/fdatasync of its inode after it`,
        };
      else if (op.kind === "create" && !ignoreInos.has(op.ino))
        f = {
          kind: "entry-without-dir-fsync",
          message: `${claim.what} while the creation of ${op.path} (op ${i}) has no fsync of its directory after it`,
        };
      else if (op.kind === "rename")
        f = {
          kind: "entry-without-dir-fsync",
          message: `${claim.what} while the rename ${op.from} -> ${op.to} (op ${i}) has no fsync of its directory after it`,
        };
      if (f !== null && !seen.has(`${op.kind}${i}`)) {
        seen.add(`${op.kind}${i}`);
        findings.push(f);
      }
    }
  }
  // An atomic replace (ALICE's classic): every write to the renamed inode is fsynced before the rename is issued.
  for (let r = 0; r < ops.length; r++) {
    const ren = ops[r] as LogicalOp;
    if (ren.kind !== "rename" || ren.ino === null) continue;
    const forced = forcedBefore(ops, r);
    for (let i = 0; i < r; i++) {
      const op = ops[i] as LogicalOp;
      if ((op.kind === "write" || op.kind === "truncate") && op.ino === ren.ino && !forced[i]) {
        findings.push({
          kind: "rename-before-fsync",
          message: `rename ${ren.from} -> ${ren.to} (op ${r}) before an fsync of the ${op.kind} at op ${i}: a crash may leave the new name on empty or partial data`,
        });
        break;
      }
    }
  }
  const mkdirWithoutParentSync: string[] = [];
  for (let i = 0; i < ops.length; i++) {
    const op = ops[i] as LogicalOp;
    if (op.kind !== "mkdir") continue;
    const parent = dirOf(op.path);
    if (!ops.slice(i + 1).some((o) => o.kind === "dirsync" && o.path === parent)) mkdirWithoutParentSync.push(op.path);
  }
  // An fsync/fdatasync of an inode with nothing written to it since its previous sync (and after its creation),
  // with what the file saw next: a write at offset 0 (a seal's header), nothing (a close's sync), or other bytes.
  const redundantSyncs: RedundantSync[] = [];
  const dirty = new Map<number, boolean>();
  for (let i = 0; i < ops.length; i++) {
    const op = ops[i] as LogicalOp;
    if (op.kind === "create" || op.kind === "write" || op.kind === "truncate") dirty.set(op.ino, true);
    else if (op.kind === "fsync") {
      if (dirty.get(op.ino) === false) {
        const later = ops.slice(i + 1).find((o) => (o.kind === "write" || o.kind === "truncate") && o.ino === op.ino);
        const next =
          later === undefined ? "nothing" : later.kind === "write" && later.offset === 0 ? "header" : "other";
        redundantSyncs.push({ op: i, path: names.get(op.ino) ?? String(op.ino), syscall: op.syscall, next });
      }
      dirty.set(op.ino, false);
    }
  }
  return { findings, mkdirWithoutParentSync, redundantSyncs };
}
