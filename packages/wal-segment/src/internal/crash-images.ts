/**
 * Crash-image enumeration for SimFS: every state the fsync barriers allow right now, as independent choices per
 * file (which of its unsynced operations survive, possibly one torn at 512-byte sectors, a write or a truncate
 * landed out of order, a shrinking truncate lost after zeroing the rest of its 4 KiB, 1 KiB or 64 KiB block, the writes
 * before it kept or some lost) and per directory
 * (which of its unsynced entry operations survive, subdirectories included), combined exhaustively or sampled from a
 * seed. An image is built from the root down, so a directory whose entry is lost takes everything under it along.
 */

import { posix } from "node:path";
import { optionOr, WalError } from "@lora/wal-codec";
import type { PagedBytes } from "./paged-bytes.js";
import { below, mixSeed, mulberry32 } from "./prng.js";
import { applyOp, type Dir, type DirOp, type Inode, type PendingOp, SimState } from "./sim-state.js";

/** Sectors are atomic: a torn write lands or misses whole 512-byte sectors (docs/recovery.md). */
export const SECTOR_BYTES = 512;

/**
 * The file system's block: a shrinking truncate to a length inside one zeroes the rest of it in the page cache
 * (ext4 `ext4_block_truncate_page`, xfs `iomap_truncate_page`) as data, written back apart from the size change.
 */
export const BLOCK_BYTES = 4096;

/**
 * The block sizes whose zeroing a lost truncate may leave: the usual 4 KiB first, then ext4's smallest (1 KiB, zeroing
 * less) and 64 KiB (ext4 and xfs on machines with 64 KiB pages, xfs with large blocks; zeroing more). The zeroing is
 * up to the end of the file system's block, not the page: bytes of a page past the new end are never written back.
 */
export const ZEROED_BLOCK_SIZES: readonly number[] = [BLOCK_BYTES, 1024, 64 * 1024];

/** Options of `SimFS.crashImages`. */
export interface CrashImageOptions {
  /**
   * Enumerate every combination when there are at most this many, else sample this many. Images of truncates lost
   * together (up to `reorderSamples` per file), and one per unsynced write covering more than 4 sectors torn with its
   * first sector lost, come on top of these. @default 256
   */
  readonly maxImages?: number;
  /** Seed for sampling (combinations, non-prefix torn sector sets, directory subsets). @default 0x5eed */
  readonly seed?: number;
  /**
   * Sampled non-prefix torn sector sets per write of more than 4 sectors, on top of the one that loses the first
   * sector alone (always shown, an image of its own on top of `maxImages`). @default 8
   */
  readonly tornSamples?: number;
  /** Sampled extra entry-op subsets per directory with more than 8 unsynced entry ops. @default 16 */
  readonly dirSamples?: number;
  /**
   * Out-of-order landings per file: a later unsynced write kept while earlier ones are lost (all of them when
   * there are at most this many, else this many sampled, the last write landing without the one before it
   * always among them when it follows a write); and as many again for unsynced truncates, each lost while writes
   * after it landed or landed while writes before it were lost; and as many again for shrinking truncates to a length
   * inside a 4 KiB block, each lost after the block's tail past its cut was zeroed with every op before it kept; and
   * as many again for the other zeroings (blocks of 1 KiB or 64 KiB, or the writes since the truncate before it some
   * of them lost); and as many again for several truncates lost together, shown on top of `maxImages`. 0 turns all
   * five off.
   * @default 16
   */
  readonly reorderSamples?: number;
}

type FileChoice =
  | { readonly kind: "prefix"; readonly k: number }
  /** The first `k` ops kept, then op `j` (j > k) landed out of order; every other op lost. */
  | { readonly kind: "reordered"; readonly k: number; readonly j: number }
  /** The first `j` ops kept but the truncate `t` (t < j - 1) among them, lost: later writes landed without it. */
  | { readonly kind: "truncateLost"; readonly t: number; readonly j: number }
  /** The first `k` ops kept, then the truncate `t` (t > k) and the ops after it up to `j` (exclusive): ops k..t-1 lost. */
  | { readonly kind: "truncateEarly"; readonly k: number; readonly t: number; readonly j: number }
  /**
   * The first `j` ops kept but ops `k..t-1` (k ≤ t; none when k = t) and the shrinking truncate `t` (t < j), lost
   * after zeroing the tail of the `block`-byte block its cut lies in: the file keeps its length, the bytes from the
   * cut to the block's end zero, the rest of the sector the cut lies in as the writes before it left it.
   */
  | {
      readonly kind: "tailZeroed";
      readonly k: number;
      readonly t: number;
      readonly j: number;
      readonly block: number;
    }
  | { readonly kind: "torn"; readonly k: number; readonly sectors: readonly number[]; readonly total: number }
  /**
   * The first `j` ops kept but every truncate among them from op `t` on (two or more: the truncates after the last
   * fsync land in order, so losing one loses those after it), their writes landed; with `zeroed`, the zeroing of
   * the 4 KiB block the cut of those truncates lies in landed for the newest lost one (`"newest"`) or each of them
   * (`"each"`), at its place among the writes.
   */
  | {
      readonly kind: "truncatesLost";
      readonly t: number;
      readonly j: number;
      readonly zeroed: "none" | "newest" | "each";
    };

interface FileDim {
  readonly kind: "file";
  readonly inode: Inode;
  readonly label: string;
  readonly ops: readonly PendingOp[];
  readonly base: PagedBytes;
  /** The volatile bytes, when they equal base + every op (no fsyncgate divergence). */
  readonly kept: PagedBytes | undefined;
  readonly choices: readonly FileChoice[];
  /**
   * How many of `choices` the image budget (`maxImages`) spans; the rest (several truncates lost together) are shown
   * on top of it, one image each, so adding them never thins out the images of the others.
   */
  oldCount: number;
  readonly cache: Map<number, PagedBytes>;
}

interface DirDim {
  readonly kind: "dir";
  /** The path, marked `(removed)` for a directory no longer in the tree. */
  readonly label: string;
  readonly ops: readonly DirOp[];
  readonly choices: readonly (readonly boolean[])[];
}

interface CapturedDir {
  readonly path: string;
  readonly durable: ReadonlyMap<string, Inode>;
  readonly durableSubdirs: ReadonlyMap<string, Dir>;
  readonly dim: DirDim | undefined;
}

/** One crash image before it is wrapped as a SimFS. */
export interface RawCrashImage {
  readonly description: string;
  readonly state: SimState;
}

function keyOf(values: readonly (number | boolean)[]): string {
  return values.map((v) => (v === true ? 1 : v === false ? 0 : v)).join(",");
}

/** A write covering at most this many sectors tears into every subset of them; a larger one into samples. */
const EVERY_SUBSET_MAX_SECTORS = 4;

/** The 512-byte sectors of the file a write lands on (0 for an empty write or another op). */
function sectorsOf(op: PendingOp): number {
  if (op.kind !== "write" || op.bytes.byteLength === 0) return 0;
  const first = Math.floor(op.offset / SECTOR_BYTES);
  return Math.floor((op.offset + op.bytes.byteLength - 1) / SECTOR_BYTES) - first + 1;
}

function tornChoices(op: PendingOp, k: number, seed: number, samples: number): FileChoice[] {
  const total = sectorsOf(op);
  if (total < 2) return [];
  const out: FileChoice[] = [];
  for (let j = 1; j < total; j++) out.push({ kind: "torn", k, sectors: range(0, j), total });
  const isPrefix = (s: readonly number[]) => s.every((v, i) => v === i);
  if (total <= EVERY_SUBSET_MAX_SECTORS) {
    for (let mask = 1; mask < (1 << total) - 1; mask++) {
      const sectors = range(0, total).filter((i) => (mask & (1 << i)) !== 0);
      if (!isPrefix(sectors)) out.push({ kind: "torn", k, sectors, total });
    }
    return out;
  }
  // The write's first sector lost and every later one landed is not drawn here: `firstSectorLost` shows it on top of
  // the budget. Half the draws would have to miss exactly one sector.
  const next = mulberry32(seed);
  const seen = new Set<string>([keyOf(range(1, total))]);
  for (let attempt = 0; attempt < samples * 8 && seen.size <= samples; attempt++) {
    const sectors = range(0, total).filter(() => (next() & 1) === 1);
    if (sectors.length === 0 || sectors.length === total || isPrefix(sectors)) continue;
    const key = keyOf(sectors);
    if (seen.has(key)) continue;
    seen.add(key);
    out.push({ kind: "torn", k, sectors, total });
  }
  return out;
}

/**
 * Each unsynced write of a file that covers more than 4 sectors (smaller ones have every subset among their torn
 * choices) torn with its first sector lost and every later one landed, the ops before it kept and those after it lost.
 * A writer that writes more than its unsynced window at once sends it in pieces fsynced in turn, and a piece ends
 * wherever the window does, inside a record's header too: this tear of the next piece leaves that header's fsynced
 * first bytes followed by zeros and the rest of the piece landed, the state recovery must still take for a torn tail.
 * The piece need not be the first write since the sync (a preallocating writer may zero-fill ahead first), so every
 * such write gets one. They are shown on top of `maxImages`, so that sampling never leaves them out.
 */
function firstSectorLost(ops: readonly PendingOp[]): FileChoice[] {
  const out: FileChoice[] = [];
  ops.forEach((op, k) => {
    const total = sectorsOf(op);
    if (total > EVERY_SUBSET_MAX_SECTORS) out.push({ kind: "torn", k, sectors: range(1, total), total });
  });
  return out;
}

/**
 * Writes that landed ahead of earlier ones: a page cache writes dirty pages back in any order, so a later
 * append can reach the disk while an earlier one (or its page) does not, leaving a hole of zeros before it.
 * Only runs of writes are reordered here: a write never moves across a truncate (the truncate moves instead, see
 * `truncateChoices`).
 *
 * Whole writes are reordered, which is stricter than a page cache on purpose (as SimFS is): a page written back
 * carries every earlier write to it, so a later write landing without an earlier one in the same sector cannot
 * happen on a disk. The extra states are holes in unsynced data, which recovery must accept anyway; states this
 * misses (a reordered write that is itself torn, several later writes around holes) are left to Tier D's model.
 */
function reorderedChoices(ops: readonly PendingOp[], seed: number, samples: number): FileChoice[] {
  // For each write j preceded by a write, the earliest k such that ops k..j-1 are all writes (O(n), no pairs).
  const firstOfRun: number[] = [];
  const landing: number[] = [];
  let runStart = 0;
  let total = 0;
  ops.forEach((op, i) => {
    if (op.kind !== "write") {
      runStart = i + 1;
      return;
    }
    if (i > runStart) {
      landing.push(i);
      firstOfRun.push(runStart);
      total += i - runStart;
    }
  });
  const out: FileChoice[] = [];
  if (total <= samples) {
    landing.forEach((j, n) => {
      for (let k = j - 1; k >= (firstOfRun[n] as number); k--) out.push({ kind: "reordered", k, j });
    });
    return out;
  }
  const seen = new Set<string>();
  const add = (k: number, j: number) => {
    const key = keyOf([k, j]);
    if (seen.has(key)) return;
    seen.add(key);
    out.push({ kind: "reordered", k, j });
  };
  const lastJ = landing[landing.length - 1] as number;
  if (lastJ === ops.length - 1 && samples > 0) add(lastJ - 1, lastJ);
  const next = mulberry32(seed);
  for (let attempt = 0; attempt < samples * 8 && out.length < samples; attempt++) {
    const n = below(next, landing.length);
    const j = landing[n] as number;
    const from = firstOfRun[n] as number;
    add(from + below(next, j - from), j);
  }
  return out;
}

/**
 * Truncates that landed out of order with the file's other unsynced writes. Before an fsync, a size change is
 * metadata committed by the journal on its own schedule while data pages are written back on theirs (ext4
 * `data=ordered`, xfs): a later write can land while the truncate before it is lost (the file keeps its old length,
 * the bytes past the cut still there, the new bytes over them), and a truncate can land while the writes before it
 * are lost. Truncates stay in order among themselves (one journal), so a choice moves one truncate across the
 * writes between it and its neighbouring truncates: lost behind the writes after it (`truncateLost`: every op up to
 * `j` kept but it), or landed ahead of the writes before it (`truncateEarly`: ops `k..t-1` lost, it and the ops
 * after it up to `j` kept). Every such choice when there are at most `samples`, else seeded draws (the newest
 * truncate lost behind every write after it, and landed ahead of every write before it, first), `samples * 8` at
 * most, each choice once; the caller keeps those that leave a new state.
 */
function* truncateChoices(ops: readonly PendingOp[], seed: number, samples: number): Generator<FileChoice> {
  const n = ops.length;
  const truncates: number[] = [];
  ops.forEach((op, i) => {
    if (op.kind === "truncate") truncates.push(i);
  });
  // Per truncate: how many of each kind (lost: j in t+2..next; early: k in prev+1..t-1 times j in t+1..n).
  const spans = truncates.map((t, i) => {
    const prev = i === 0 ? -1 : (truncates[i - 1] as number);
    const next = i === truncates.length - 1 ? n : (truncates[i + 1] as number);
    return { t, prev, next, lost: Math.max(0, next - t - 1), early: Math.max(0, t - prev - 1) * (n - t) };
  });
  const total = spans.reduce((sum, s) => sum + s.lost + s.early, 0);
  const decode = (index: number): FileChoice => {
    let r = index;
    for (const { t, prev, lost, early } of spans) {
      if (r < lost) return { kind: "truncateLost", t, j: t + 2 + r };
      r -= lost;
      if (r < early)
        return { kind: "truncateEarly", k: prev + 1 + Math.floor(r / (n - t)), t, j: t + 1 + (r % (n - t)) };
      r -= early;
    }
    throw new Error("unreachable: index past the truncate choices");
  };
  // First when sampling, from the newest truncate's choices (the last ones): it lost behind every write after it
  // (j = next), and landed ahead of every write before it (k = prev + 1, j = n).
  const newest = spans[spans.length - 1];
  const firsts: number[] = [];
  if (newest !== undefined && newest.lost > 0) firsts.push(total - newest.early - 1);
  if (newest !== undefined && newest.early > 0) firsts.push(total - newest.early + (n - newest.t - 1));
  for (const index of everyOrSampled(total, firsts, seed, samples)) yield decode(index);
}

/** A shrinking truncate `t` whose cut zeroes a `block`-byte block's tail: `prev` and `next` are its neighbouring truncates. */
interface ZeroedSpan {
  readonly t: number;
  /** The truncate before `t`, or -1. */
  readonly prev: number;
  /** The truncate after `t`, or the number of ops. */
  readonly next: number;
  readonly block: number;
}

/**
 * Per shrinking truncate and block size of `ZEROED_BLOCK_SIZES` whose zeroing would change a byte's place (the cut
 * not a multiple of the block): its span, in op order, block sizes in that array's order.
 */
function zeroedSpans(ops: readonly PendingOp[], baseSize: number): ZeroedSpan[] {
  const spans: ZeroedSpan[] = [];
  let size = baseSize;
  let prev = -1;
  let open: { t: number; prev: number; block: number }[] = [];
  const close = (next: number) => {
    for (const o of open) spans.push({ ...o, next });
    open = [];
  };
  ops.forEach((op, i) => {
    if (op.kind === "write") {
      size = Math.max(size, op.offset + op.bytes.byteLength);
      return;
    }
    close(i);
    if (op.length < size)
      for (const block of ZEROED_BLOCK_SIZES) if (op.length % block !== 0) open.push({ t: i, prev, block });
    prev = i;
    size = op.length;
  });
  close(ops.length);
  return spans;
}

/**
 * Shrinking truncates lost after the tail of the block their cut lies in was zeroed. Cutting a file to a length inside
 * a block zeroes the rest of that block in the page cache (ext4 `ext4_block_truncate_page`, xfs
 * `iomap_truncate_page`), and that block is data, which can be written back before the journal commits the size
 * change (newer xfs writes it back before it even logs the change): a power loss can leave the old length with zeros
 * from the cut to the block's end (or the old end), the blocks past it untouched until the size change frees them.
 * Only a truncate that shrinks the file to a length that is not a multiple of the block zeroes anything.
 *
 * The usual choices: 4 KiB blocks, each such truncate lost with every op before it kept, alone (`j = t + 1`) or
 * behind the writes after it up to the next truncate (which never lands without it). Every such choice when there are
 * at most `samples`, else seeded draws (the newest such truncate lost alone, and lost behind every write after it,
 * first), `samples * 8` at most, each choice once; the caller keeps those that leave a new state.
 */
function* usualZeroedChoices(
  ops: readonly PendingOp[],
  baseSize: number,
  seed: number,
  samples: number,
): Generator<FileChoice> {
  const usual = zeroedSpans(ops, baseSize).filter((s) => s.block === BLOCK_BYTES);
  const total = usual.reduce((sum, s) => sum + s.next - s.t, 0);
  const decode = (index: number): FileChoice => {
    let r = index;
    for (const { t, next } of usual) {
      if (r < next - t) return { kind: "tailZeroed", k: t, t, j: t + 1 + r, block: BLOCK_BYTES };
      r -= next - t;
    }
    throw new Error("unreachable: index past the zeroed-tail choices");
  };
  // First when sampling, from the newest such truncate's choices (the last ones): it lost alone (j = t + 1), and
  // behind every write after it (j = next).
  const newest = usual[usual.length - 1];
  const firsts = newest === undefined ? [] : [total - (newest.next - newest.t), total - 1];
  for (const index of everyOrSampled(total, firsts, seed, samples)) yield decode(index);
}

/**
 * The other zeroed-tail choices, offered with a budget of their own on top of the usual ones (`usualZeroedChoices`):
 * at each of `ZEROED_BLOCK_SIZES`, each such truncate lost with the writes since the truncate before it lost from any
 * one on (`k` < t), those being data pages of their own, written back or not apart from the zeroed block (the sector
 * the cut lies in lands as the page cache held it, with their bytes); and at 1 KiB and 64 KiB blocks, also with every
 * op before it kept (`k = t`). Alone or behind the writes after it up to the next truncate. Every such choice when
 * there are at most `samples`, else seeded draws, `samples * 8` at most, each choice once; the caller keeps those
 * that leave a new state (one a usual choice left is not offered again).
 */
function* otherZeroedChoices(
  ops: readonly PendingOp[],
  baseSize: number,
  seed: number,
  samples: number,
): Generator<FileChoice> {
  const spans = zeroedSpans(ops, baseSize);
  // Every k in prev+1..t and j in t+1..next of every span, less the usual ones (k = t at 4 KiB).
  const count = (s: ZeroedSpan) => (s.t - s.prev - (s.block === BLOCK_BYTES ? 1 : 0)) * (s.next - s.t);
  const total = spans.reduce((sum, s) => sum + count(s), 0);
  const decode = (index: number): FileChoice => {
    let r = index;
    for (const span of spans) {
      const { t, prev, next, block } = span;
      if (r < count(span)) {
        // k runs over prev+1..t, or prev+1..t-1 at 4 KiB.
        return { kind: "tailZeroed", k: prev + 1 + Math.floor(r / (next - t)), t, j: t + 1 + (r % (next - t)), block };
      }
      r -= count(span);
    }
    throw new Error("unreachable: index past the zeroed-tail choices");
  };
  for (const index of everyOrSampled(total, [], seed, samples)) yield decode(index);
}

/**
 * Several truncates lost together. Truncates after the last fsync of the file reach the disk in order (one
 * journal), so a crash can lose the newest few of them at once while the writes between them (data, written back on
 * their own schedule) land: the file keeps the length the last truncate kept before them, the writes over it. And the
 * zeroing each shrinking cut did in the page cache is data too: the block the newest lost cut lies in (or the blocks
 * of each lost cut) may reach the disk while every size change is lost. Without an fsync between two cuts of a
 * file, a crash can thus leave the first cut's tail whole past zeros the second cut wrote (what `cutFile`'s fsync
 * between its steps prevents). Choices: every first lost truncate `t` and window end `j` with two or more truncates
 * lost in ops `t..j-1` (one lost truncate is a `truncateLost` or `tailZeroed` choice), `j` before the
 * next truncate (which never lands without them), with no zeroing, the newest one's, or each one's (4 KiB blocks).
 * Every such choice when there are at most `samples`, else the newest truncates' (all but the first lost, every write
 * landed, the newest cut's zeroing landed and not) first, then seeded draws, `samples * 8` at most, each choice
 * once; the caller keeps those that leave a new state.
 */
function* truncatesLostChoices(ops: readonly PendingOp[], seed: number, samples: number): Generator<FileChoice> {
  const truncates: number[] = [];
  ops.forEach((op, i) => {
    if (op.kind === "truncate") truncates.push(i);
  });
  const zeroings = ["none", "newest", "each"] as const;
  // Per (first lost a, last lost b > a): the window ends j in t_b+1..next (next truncate or the op count).
  const spans: { t: number; from: number; count: number }[] = [];
  for (let a = 0; a < truncates.length; a++) {
    for (let b = a + 1; b < truncates.length; b++) {
      const tb = truncates[b] as number;
      const next = b + 1 < truncates.length ? (truncates[b + 1] as number) : ops.length;
      spans.push({ t: truncates[a] as number, from: tb + 1, count: (next - tb) * zeroings.length });
    }
  }
  const total = spans.reduce((sum, span) => sum + span.count, 0);
  const decode = (index: number): FileChoice => {
    let r = index;
    for (const { t, from, count } of spans) {
      if (r < count) {
        const zeroed = zeroings[r % zeroings.length] as (typeof zeroings)[number];
        return { kind: "truncatesLost", t, j: from + Math.floor(r / zeroings.length), zeroed };
      }
      r -= count;
    }
    throw new Error("unreachable: index past the lost-truncates choices");
  };
  // First when sampling: the last span (truncates from the one before the newest on, up to the end), every op kept
  // (j = n), the newest cut's zeroing landed, then not.
  const last = spans[spans.length - 1];
  const firsts = last === undefined ? [] : [total - zeroings.length + 1, total - zeroings.length];
  for (const index of everyOrSampled(total, firsts, seed, samples)) yield decode(index);
}

/**
 * The indexes of `total` choices to offer: all of them when there are at most `samples`; else `firsts`, then seeded
 * draws, `samples * 8` at most, each index once (the caller decodes an index to its choice, one to one).
 */
function* everyOrSampled(total: number, firsts: readonly number[], seed: number, samples: number): Generator<number> {
  if (total <= samples) {
    for (let i = 0; i < total; i++) yield i;
    return;
  }
  const seen = new Set<number>();
  for (const index of firsts) {
    if (seen.has(index)) continue;
    seen.add(index);
    yield index;
  }
  const next = mulberry32(seed);
  for (let attempt = 0; attempt < samples * 8; attempt++) {
    const index = below(next, total);
    if (seen.has(index)) continue;
    seen.add(index);
    yield index;
  }
}

function dirChoices(m: number, seed: number, samples: number): boolean[][] {
  const out: boolean[][] = [];
  const seen = new Set<string>();
  const add = (c: boolean[]) => {
    const key = keyOf(c);
    if (seen.has(key)) return;
    seen.add(key);
    out.push(c);
  };
  add(new Array<boolean>(m).fill(false));
  add(new Array<boolean>(m).fill(true));
  for (let j = 1; j < m; j++) add(range(0, m).map((i) => i < j));
  if (m <= 8) {
    for (let mask = 1; mask < (1 << m) - 1; mask++) add(range(0, m).map((i) => (mask & (1 << i)) !== 0));
    return out;
  }
  // Too many subsets: every single op lost alone and kept alone, plus seeded samples.
  for (let j = 0; j < m; j++) {
    add(range(0, m).map((i) => i !== j));
    add(range(0, m).map((i) => i === j));
  }
  const next = mulberry32(seed);
  for (let s = 0; s < samples; s++) add(range(0, m).map(() => (next() & 1) === 1));
  return out;
}

function range(from: number, to: number): number[] {
  const out: number[] = [];
  for (let i = from; i < to; i++) out.push(i);
  return out;
}

function describeDirOp(op: DirOp): string {
  switch (op.kind) {
    case "create":
      return `create "${op.name}"${op.note === undefined ? "" : ` (${op.note})`}`;
    case "unlink":
      return `unlink "${op.name}"${op.note === undefined ? "" : ` (${op.note})`}`;
    case "rename":
      return `rename "${op.from}" → "${op.to}"`;
    case "mkdir":
      return `mkdir "${op.name}"`;
    case "rmdir":
      return `rmdir "${op.name}"`;
  }
}

function describeFile(dim: FileDim, choice: FileChoice): string {
  const n = dim.ops.length;
  const ops = n === 1 ? "op" : "ops";
  if (choice.kind === "reordered") {
    const op = dim.ops[choice.j] as PendingOp & { kind: "write" };
    return (
      `${dim.label}: kept first ${choice.k}/${n} unsynced ops, then op ${choice.j + 1} ` +
      `(write ${op.bytes.byteLength} B at ${op.offset}) landed out of order, the rest lost`
    );
  }
  if (choice.kind === "truncateLost") {
    const op = dim.ops[choice.t] as PendingOp & { kind: "truncate" };
    return (
      `${dim.label}: kept first ${choice.j}/${n} unsynced ops but op ${choice.t + 1} ` +
      `(truncate to ${op.length}), lost while later writes landed, the rest lost`
    );
  }
  if (choice.kind === "truncateEarly") {
    const op = dim.ops[choice.t] as PendingOp & { kind: "truncate" };
    const lost = choice.t - choice.k === 1 ? `op ${choice.t}` : `ops ${choice.k + 1}-${choice.t}`;
    const after =
      choice.j === choice.t + 1
        ? ""
        : choice.j === choice.t + 2
          ? ` and op ${choice.j}`
          : ` and ops ${choice.t + 2}-${choice.j}`;
    return (
      `${dim.label}: kept first ${choice.k}/${n} unsynced ops, then op ${choice.t + 1} (truncate to ${op.length})` +
      `${after} landed ahead of ${lost} (lost), the rest lost`
    );
  }
  if (choice.kind === "tailZeroed") {
    const op = dim.ops[choice.t] as PendingOp & { kind: "truncate" };
    const { k, t } = choice;
    const lost = k === t ? "" : t - k === 1 ? `op ${t} (lost) and ` : `ops ${k + 1}-${t} (lost) and `;
    return (
      `${dim.label}: kept first ${choice.j}/${n} unsynced ops but ${lost}op ${t + 1} (truncate to ${op.length}), ` +
      `lost after zeroing its ${choice.block}-byte block from the cut, the rest lost`
    );
  }
  if (choice.kind === "truncatesLost") {
    const lost: string[] = [];
    for (let i = choice.t; i < choice.j; i++) {
      const op = dim.ops[i] as PendingOp;
      if (op.kind === "truncate") lost.push(`op ${i + 1} (truncate to ${op.length})`);
    }
    const zeroed =
      choice.zeroed === "none"
        ? ""
        : `, ${choice.zeroed === "newest" ? "the newest" : "each"} lost after zeroing its 4096-byte block from the cut`;
    const named = `${lost.slice(0, -1).join(", ")} and ${lost[lost.length - 1]}`;
    return `${dim.label}: kept first ${choice.j}/${n} unsynced ops but ${named}, lost together${zeroed}, the rest lost`;
  }
  if (choice.kind === "prefix") {
    if (choice.k === 0) return `${dim.label}: dropped ${n} unsynced ${ops}`;
    if (choice.k === n) return `${dim.label}: kept all ${n} unsynced ${ops}`;
    return `${dim.label}: kept first ${choice.k}/${n} unsynced ops`;
  }
  const op = dim.ops[choice.k] as PendingOp & { kind: "write" };
  return (
    `${dim.label}: kept first ${choice.k}/${n} unsynced ${ops}, op ${choice.k + 1} ` +
    `(write ${op.bytes.byteLength} B at ${op.offset}) torn: sectors [${choice.sectors.join(",")}] of ${choice.total} landed`
  );
}

function describeDir(dim: DirDim, choice: readonly boolean[]): string {
  return `dir ${dim.label}: ${dim.ops.map((op, i) => `${describeDirOp(op)} ${choice[i] === true ? "kept" : "lost"}`).join(", ")}`;
}

function contentOf(dim: FileDim, index: number): PagedBytes {
  const cached = dim.cache.get(index);
  if (cached !== undefined) return cached;
  const out = buildContent(dim, dim.choices[index] as FileChoice);
  dim.cache.set(index, out);
  return out;
}

function buildContent(dim: Pick<FileDim, "ops" | "base" | "kept">, choice: FileChoice): PagedBytes {
  let out: PagedBytes;
  if (choice.kind === "prefix" && choice.k === 0) out = dim.base;
  else if (choice.kind === "prefix" && choice.k === dim.ops.length && dim.kept !== undefined) out = dim.kept;
  else if (choice.kind === "truncateLost") {
    out = dim.base.snapshot();
    for (let i = 0; i < choice.j; i++) if (i !== choice.t) applyOp(out, dim.ops[i] as PendingOp);
  } else if (choice.kind === "tailZeroed") {
    out = dim.base.snapshot();
    for (let i = 0; i < choice.k; i++) applyOp(out, dim.ops[i] as PendingOp);
    let before = out;
    if (choice.k < choice.t) {
      before = out.snapshot();
      for (let i = choice.k; i < choice.t; i++) applyOp(before, dim.ops[i] as PendingOp);
    }
    landZeroedBlock(out, before, (dim.ops[choice.t] as PendingOp & { kind: "truncate" }).length, choice.block);
    for (let i = choice.t + 1; i < choice.j; i++) applyOp(out, dim.ops[i] as PendingOp);
  } else if (choice.kind === "truncatesLost") {
    // `out` is the disk, `cache` the page cache: the lost cuts change only the latter, their zeroing both.
    out = dim.base.snapshot();
    const cache = dim.base.snapshot();
    let newest = -1;
    for (let i = choice.t; i < choice.j; i++) if ((dim.ops[i] as PendingOp).kind === "truncate") newest = i;
    for (let i = 0; i < choice.j; i++) {
      const op = dim.ops[i] as PendingOp;
      if (op.kind === "truncate" && i >= choice.t) {
        if (choice.zeroed === "each" || (choice.zeroed === "newest" && i === newest))
          landZeroedBlock(out, cache, op.length, BLOCK_BYTES);
      } else applyOp(out, op);
      applyOp(cache, op);
    }
  } else if (choice.kind === "truncateEarly") {
    out = dim.base.snapshot();
    for (let i = 0; i < choice.k; i++) applyOp(out, dim.ops[i] as PendingOp);
    for (let i = choice.t; i < choice.j; i++) applyOp(out, dim.ops[i] as PendingOp);
  } else {
    out = dim.base.snapshot();
    for (let i = 0; i < choice.k; i++) applyOp(out, dim.ops[i] as PendingOp);
    // A write past the end extends the file with zeros, as an unwritten extent reads after a crash.
    if (choice.kind === "reordered") applyOp(out, dim.ops[choice.j] as PendingOp);
    if (choice.kind === "torn") {
      const op = dim.ops[choice.k] as PendingOp & { kind: "write" };
      const first = Math.floor(op.offset / SECTOR_BYTES);
      const end = op.offset + op.bytes.byteLength;
      for (const s of choice.sectors) {
        const from = Math.max(op.offset, (first + s) * SECTOR_BYTES);
        const to = Math.min(end, (first + s + 1) * SECTOR_BYTES);
        out.write(op.bytes.subarray(from - op.offset, to - op.offset), from);
      }
    }
  }
  return out;
}

/**
 * Land on `out` the sectors a truncate to `cut` zeroed in the page cache, where `before` is the file as the page
 * cache held it then: zeros from `cut` to the end of its `block`-byte block (or of `before`), and the bytes of the
 * sector `cut` lies in before it as `before` has them (the sector reaches the disk whole). Nothing past the end of
 * `out` (a size the disk does not have yet), and the length kept.
 */
function landZeroedBlock(out: PagedBytes, before: PagedBytes, cut: number, block: number): void {
  const end = Math.min(out.size, before.size, Math.ceil(cut / block) * block);
  if (cut >= end) return;
  const from = Math.floor(cut / SECTOR_BYTES) * SECTOR_BYTES;
  if (from < cut && out !== before) {
    const head = new Uint8Array(cut - from);
    before.read(head, 0, head.byteLength, from);
    out.write(head, from);
  }
  out.write(new Uint8Array(end - cut), cut);
}

/**
 * Append truncate choices that each leave a state no other choice of the file leaves (a truncate to the length the
 * file had, writes after it over all the bytes it cut, writes before it wholly past its cut, or a block tail already
 * zero leave a prefix's): up to `samples` from each group of candidates, in order, each compared with every prefix and
 * with the truncate choices kept before it; sampling draws on until `samples` distinct ones are kept or its attempts
 * run out. The contents are cached for the images.
 */
function addTruncateChoices(
  dim: FileDim,
  choices: FileChoice[],
  groups: readonly Iterable<FileChoice>[],
  extraGroups: readonly Iterable<FileChoice>[],
  samples: number,
): void {
  dim.oldCount = choices.length;
  if (samples === 0 || !dim.ops.some((op) => op.kind === "truncate")) return;
  const bySize = new Map<number, PagedBytes[]>();
  const remember = (content: PagedBytes) => {
    const same = bySize.get(content.size);
    if (same === undefined) bySize.set(content.size, [content]);
    else same.push(content);
  };
  // Every prefix, one op at a time; prefix k is choice 0 (k = 0), 1 (all), or k + 1.
  let prefix = dim.base;
  remember(prefix);
  dim.cache.set(0, prefix);
  dim.ops.forEach((op, i) => {
    prefix = prefix.snapshot();
    applyOp(prefix, op);
    remember(prefix);
    dim.cache.set(i === dim.ops.length - 1 ? 1 : i + 2, prefix);
  });
  const add = (candidates: Iterable<FileChoice>) => {
    let added = 0;
    for (const candidate of candidates) {
      if (added === samples) break;
      const content = buildContent(dim, candidate);
      if (bySize.get(content.size)?.some((other) => other.equals(content)) === true) continue;
      remember(content);
      dim.cache.set(choices.length, content);
      choices.push(candidate);
      added++;
    }
  };
  for (const candidates of groups) add(candidates);
  // The extra choices come after every other: the image budget spans those before them (see `generate`).
  dim.oldCount = choices.length;
  for (const candidates of extraGroups) add(candidates);
}

/**
 * Crash images of `state` as it is now (captured eagerly: mutating the SimFS while iterating is safe).
 * The first image drops everything unsynced, the second keeps everything; then the rest.
 */
export function crashImages(state: SimState, options: CrashImageOptions = {}): Iterable<RawCrashImage> {
  const maxImages = optionOr(options.maxImages, 256);
  if (!Number.isSafeInteger(maxImages) || maxImages < 2)
    throw new WalError("WAL_INVALID_ARGUMENT", "maxImages must be an integer ≥ 2");
  const givenSeed = optionOr(options.seed, 0x5eed);
  if (!Number.isSafeInteger(givenSeed)) throw new WalError("WAL_INVALID_ARGUMENT", "seed must be an integer");
  const seed = givenSeed >>> 0;
  const tornSamples = optionOr(options.tornSamples, 8);
  const dirSamples = optionOr(options.dirSamples, 16);
  const reorderSamples = optionOr(options.reorderSamples, 16);
  for (const [name, value] of [
    ["tornSamples", tornSamples],
    ["dirSamples", dirSamples],
    ["reorderSamples", reorderSamples],
  ] as const) {
    if (!Number.isSafeInteger(value) || value < 0)
      throw new WalError("WAL_INVALID_ARGUMENT", `${name} must be a non-negative integer`);
  }

  // Capture: every directory a crash may leave (those in the tree, and removed ones a durable entry or a pending
  // mkdir still names), sorted by path then age, and every inode reachable from any entry, durable or volatile.
  const reachable = new Set<Dir>(state.dirs.values());
  for (const d of reachable) {
    for (const sub of d.durableSubdirs.values()) reachable.add(sub);
    for (const op of d.pending) if (op.kind === "mkdir") reachable.add(op.dir);
  }
  const sortedDirs = [...reachable].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : a.id - b.id));
  const labels = new Map<Inode, string>();
  const fallbackLabels = new Map<Inode, string>();
  const dirs = new Map<Dir, CapturedDir>();
  const dims: (FileDim | DirDim)[] = [];
  for (const d of sortedDirs) {
    const path = d.path;
    for (const [name, inode] of d.entries) if (!labels.has(inode)) labels.set(inode, posix.join(path, name));
    for (const [name, inode] of d.durable)
      if (!fallbackLabels.has(inode)) fallbackLabels.set(inode, posix.join(path, name));
    for (const op of d.pending) {
      if (op.kind === "create" && !fallbackLabels.has(op.inode))
        fallbackLabels.set(op.inode, posix.join(path, op.name));
      if (op.kind === "rename" && !fallbackLabels.has(op.inode)) fallbackLabels.set(op.inode, posix.join(path, op.to));
    }
    let dim: DirDim | undefined;
    if (d.pending.length > 0) {
      const ops = d.pending.slice();
      const label = state.dirs.get(path) === d ? path : `${path} (removed)`;
      dim = { kind: "dir", label, ops, choices: dirChoices(ops.length, mixSeed(seed, 0xd1, dirs.size), dirSamples) };
    }
    dirs.set(d, { path, durable: new Map(d.durable), durableSubdirs: new Map(d.durableSubdirs), dim });
  }
  const inodes = [...new Set([...labels.keys(), ...fallbackLabels.keys()])].sort((a, b) => a.id - b.id);
  const fileDims = new Map<Inode, FileDim>();
  const fixed = new Map<Inode, PagedBytes>();
  for (const inode of inodes) {
    if (inode.pending.length === 0) {
      fixed.set(inode, inode.durable);
      continue;
    }
    const ops = inode.pending.slice();
    const choices: FileChoice[] = [
      { kind: "prefix", k: 0 },
      { kind: "prefix", k: ops.length },
    ];
    for (let k = 1; k < ops.length; k++) choices.push({ kind: "prefix", k });
    ops.forEach((op, k) => {
      choices.push(...tornChoices(op, k, mixSeed(seed, inode.id, k), tornSamples));
    });
    choices.push(...reorderedChoices(ops, mixSeed(seed, 0x0e, inode.id), reorderSamples));
    const label = labels.get(inode) ?? fallbackLabels.get(inode) ?? `inode ${inode.id}`;
    const kept = inode.diverged ? undefined : inode.data.snapshot();
    const dim: FileDim = {
      kind: "file",
      inode,
      label,
      ops,
      base: inode.durable,
      kept,
      choices,
      oldCount: choices.length,
      cache: new Map(),
    };
    addTruncateChoices(
      dim,
      choices,
      [
        truncateChoices(ops, mixSeed(seed, 0x7c, inode.id), reorderSamples),
        usualZeroedChoices(ops, inode.durable.size, mixSeed(seed, 0x2e, inode.id), reorderSamples),
        otherZeroedChoices(ops, inode.durable.size, mixSeed(seed, 0x2f, inode.id), reorderSamples),
      ],
      [truncatesLostChoices(ops, mixSeed(seed, 0x3c, inode.id), reorderSamples)],
      reorderSamples,
    );
    // After every budgeted choice (`oldCount`), so each is one image on top of them, as the truncates lost together.
    choices.push(...firstSectorLost(ops));
    fileDims.set(inode, dim);
  }
  // Files first (by inode id), then directories (by path): the description reads in that order.
  const allDims: (FileDim | DirDim)[] = [...fileDims.values()];
  for (const d of dirs.values()) if (d.dim !== undefined) allDims.push(d.dim);
  dims.push(...allDims);

  const root = state.dirs.get("/") as Dir;
  const indexOf = new Map<FileDim | DirDim, number>(dims.map((dim, i) => [dim, i]));
  const build = (digits: readonly number[], tag: string): BuiltImage => {
    const image = new SimState();
    // The choices this image consulted: those of a file or directory under a lost directory leave no trace in it.
    const used = new Set<number>();
    const digitOf = (dim: FileDim | DirDim): number => {
      const i = indexOf.get(dim) as number;
      used.add(i);
      return digits[i] as number;
    };
    const newInodes = new Map<Inode, Inode>();
    const adopt = (inode: Inode): Inode => {
      let out = newInodes.get(inode);
      if (out !== undefined) return out;
      const dim = fileDims.get(inode);
      const content = dim === undefined ? (fixed.get(inode) ?? inode.durable) : contentOf(dim, digitOf(dim));
      out = image.adoptInode(inode.id, content);
      newInodes.set(inode, out);
      return out;
    };
    // From the root down: only directories whose entry survived in a surviving parent are built.
    const place = (source: Dir, target: Dir): void => {
      const d = dirs.get(source) as CapturedDir;
      const entries = new Map<string, Inode | Dir>(d.durable);
      for (const [name, sub] of d.durableSubdirs) entries.set(name, sub);
      const isDir = (name: string) => {
        const e = entries.get(name);
        return e !== undefined && !("data" in e);
      };
      if (d.dim !== undefined) {
        const choice = d.dim.choices[digitOf(d.dim)] as readonly boolean[];
        // Kept out of order, a file operation and a directory one may meet on one name: the directory wins.
        d.dim.ops.forEach((op, i) => {
          if (choice[i] !== true) return;
          if (op.kind === "create") {
            if (!isDir(op.name)) entries.set(op.name, op.inode);
          } else if (op.kind === "unlink") {
            if (!isDir(op.name)) entries.delete(op.name);
          } else if (op.kind === "rename") {
            if (!isDir(op.from)) entries.delete(op.from);
            if (!isDir(op.to)) entries.set(op.to, op.inode);
          } else if (op.kind === "mkdir") entries.set(op.name, op.dir);
          else if (isDir(op.name)) entries.delete(op.name);
        });
      }
      for (const [name, entry] of entries) {
        if ("data" in entry) {
          const adopted = adopt(entry);
          target.entries.set(name, adopted);
          target.durable.set(name, adopted);
        } else {
          const path = posix.join(target.path, name);
          image.addDir(path, "mkdir", true, true);
          place(entry, image.dirs.get(path) as Dir);
        }
      }
    };
    place(root, image.dirs.get("/") as Dir);
    const parts: string[] = [];
    dims.forEach((dim, i) => {
      const c = digits[i] as number;
      parts.push(
        dim.kind === "file"
          ? describeFile(dim, dim.choices[c] as FileChoice)
          : describeDir(dim, dim.choices[c] as boolean[]),
      );
    });
    const body = parts.length === 0 ? "no unsynced state" : parts.join("; ");
    const state = keyOf(digits.map((c, i) => (used.has(i) ? c : -1)));
    return { raw: { description: tag === "" ? body : `${tag} ${body}`, state: image }, state };
  };

  // Re-iterable: each pass regenerates the same sequence from the captured state.
  return { [Symbol.iterator]: () => generate(dims, build, maxImages, seed) };
}

/** An image and the key of the state it leaves: its digits, those it did not consult (under a lost directory) as -1. */
interface BuiltImage {
  readonly raw: RawCrashImage;
  readonly state: string;
}

function* generate(
  dims: readonly (FileDim | DirDim)[],
  build: (digits: readonly number[], tag: string) => BuiltImage,
  maxImages: number,
  seed: number,
): Generator<RawCrashImage> {
  if (dims.length === 0) {
    yield build([], "").raw;
    return;
  }
  yield* budgeted(dims, build, maxImages, seed);
  // The extra choices on top, one image each, every other file and directory as it is (kept whole): the budgeted
  // images above are exactly those of the choices before them, whatever extra choices a file has.
  const ones = dims.map(() => 1);
  for (const [i, dim] of dims.entries()) {
    if (dim.kind !== "file") continue;
    for (let c = dim.oldCount; c < dim.choices.length; c++) {
      const digits = ones.slice();
      digits[i] = c;
      yield build(digits, "").raw;
    }
  }
}

/** The images of the choices `maxImages` spans (a file's first `oldCount`, every directory choice): see `crashImages`. */
function* budgeted(
  dims: readonly (FileDim | DirDim)[],
  build: (digits: readonly number[], tag: string) => BuiltImage,
  maxImages: number,
  seed: number,
): Generator<RawCrashImage> {
  const sizes = dims.map((d) => (d.kind === "file" ? d.oldCount : d.choices.length));
  const zeros = sizes.map(() => 0);
  const ones = sizes.map(() => 1);
  const first = build(zeros, "[drop all unsynced]");
  const second = build(ones, "[keep all]");
  yield first.raw;
  yield second.raw;
  const total = sizes.reduce((a, b) => a * b, 1);
  const zeroKey = keyOf(zeros);
  const oneKey = keyOf(ones);
  if (total <= maxImages) {
    const digits = zeros.slice();
    for (let n = 0; n < total; n++) {
      let rest = n;
      for (let i = 0; i < sizes.length; i++) {
        const size = sizes[i] as number;
        digits[i] = rest % size;
        rest = Math.floor(rest / size);
      }
      const key = keyOf(digits);
      if (key !== zeroKey && key !== oneKey) yield build(digits, "").raw;
    }
    return;
  }
  const next = mulberry32(mixSeed(seed, 0x5a));
  // Sampled: each image a state not yielded yet (choices under a lost directory would otherwise repeat one).
  const seen = new Set<string>([zeroKey, oneKey]);
  const states = new Set<string>([first.state, second.state]);
  for (let attempt = 0; attempt < maxImages * 8 && states.size < maxImages; attempt++) {
    const digits = sizes.map((s) => below(next, s));
    const key = keyOf(digits);
    if (seen.has(key)) continue;
    seen.add(key);
    const image = build(digits, "");
    if (states.has(image.state)) continue;
    states.add(image.state);
    yield image.raw;
  }
}

/** The image with every unsynced operation dropped (file data and directory entries). */
export function durableImage(state: SimState): SimState {
  const first = crashImages(state, { maxImages: 2 })[Symbol.iterator]().next();
  return (first.value as RawCrashImage).state;
}
