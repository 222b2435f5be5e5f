/**
 * Recovery studies (issue 13), run in child processes like the cases:
 *
 * - **Open after a torn tail**: a log whose newest segment ends in one torn `MutationBatch` record carrying N MiB of
 *   binary payload, opened with `Wal.open` (bytesCodec, default options: the torn tail is classified, copied to
 *   `<segment>.<offset>.broken`, fsynced, and cut). Timed beside the same child's raw read + `zlib.crc32` of the same
 *   bytes, and `replayDir` alone (the classification without the copy).
 * - **Decode heap per input byte**: heap retained by decoding one CRC-valid `loraCodec` record, measured with
 *   `--expose-gc` (heap deltas after full collections, not timings).
 */

import * as fs from "node:fs";
import { join } from "node:path";
import { crc32 } from "node:zlib";
import { Wal } from "@lora/wal";
import { bytesCodec, decodeRecord, encodeRecord } from "@lora/wal-codec";
import { createPropertyMap, loraCodec, type MutationEvent, type PropertyMap } from "@lora/wal-codec/lora";
import { replayDir } from "@lora/wal-replay";

const MiB = 2 ** 20;
const now = (): number => performance.now();

// ---- torn tail ---------------------------------------------------------------------------------------------------

/** What the torn record's payload holds. */
export type TailKind = "float" | "hostile" | "dense";

/** How the record is torn. */
export type TearKind = "cut" | "lostSector" | "headerZeroed";

export const TAIL_KINDS: readonly TailKind[] = ["float", "hostile", "dense"];
export const TEAR_KINDS: readonly TearKind[] = ["cut", "lostSector", "headerZeroed"];

export const TAIL_LABELS: Readonly<Record<TailKind, string>> = {
  float: "float32 vector (random)",
  hostile: "hostile: marker-shaped frames + long-length headers",
  dense: "dense: marker-shaped prefix every 5 bytes",
};

export const TEAR_LABELS: Readonly<Record<TearKind, string>> = {
  cut: "file ends inside the record",
  lostSector: "whole record, a 4 KiB block of its last window zeroed",
  headerZeroed: "header zeroed: damage > window before the end (scan)",
};

/** One (tail, tear) measured once at one size. */
export interface TornTailSample {
  readonly kind: TailKind;
  readonly tear: TearKind;
  /** Bytes from the torn record's first byte to the end of the segment (what open cuts). */
  readonly tailBytes: number;
  /** Raw floor: read the same bytes in 1 MiB pieces (`readSync`) and `zlib.crc32` them. */
  readonly rawSeconds: number;
  /** `replayDir` to its outcome: the walk and the damage classification, nothing written. */
  readonly replaySeconds: number;
  /** `Wal.open`: replay, classification, the `.broken` copy (fsynced), the cut, the writer ready. */
  readonly openSeconds: number;
  readonly openCpuSeconds: number;
}

export interface TornTailChildResult {
  readonly sizeMiB: number;
  readonly samples: readonly TornTailSample[];
  /** `Wal.open` of the same log without the torn record (the fixed cost of an open): median of three. */
  readonly noTailOpenSeconds: number;
  /** Raw floor of the copy open must keep: read the tail in 1 MiB pieces, write them to a new file, fsync it. */
  readonly copySeconds: number;
  readonly copyBytes: number;
}

/** Float32 values in [-1, 1), xorshift: the bytes of an embedding-like vector. */
function floatPayload(bytes: number): Buffer {
  const b = Buffer.allocUnsafe(bytes);
  const f = new Float32Array(b.buffer, b.byteOffset, bytes >>> 2);
  let x = 0x9e3779b9;
  for (let i = 0; i < f.length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    f[i] = (x | 0) / 2 ** 31;
  }
  return b;
}

/**
 * Bytes built to look like records at many offsets, for a torn tail that follows the last good record (LSN
 * `lastLsn`). In every 300 bytes: a plausible long-length header (kind MutationBatch, the LSN expected right after
 * `lastLsn`, a length reaching to the end of the payload, so a search that checks each plausible header over its
 * claimed length reads on the order of n² / 600 bytes), then eleven 25-byte marker-shaped frames (length 25, kinds
 * TxBegin / TxCommit / TxAbort, LSNs above `lastLsn`) whose CRC is off by one bit, so none is intact.
 */
function hostilePayload(bytes: number, lastLsn: number): Buffer {
  const b = Buffer.alloc(bytes);
  let k = 0;
  for (let block = 0; block + 300 <= bytes; block += 300) {
    let at = block;
    b.writeUInt32LE(Math.min(bytes - at, 0x0fff_ffff), at);
    b[at + 4] = 6;
    b.writeUInt32LE(lastLsn + 1, at + 5);
    b.writeUInt32LE(lastLsn, at + 13);
    at += 21;
    while (at + 25 <= block + 300) {
      b.writeUInt32LE(25, at);
      b[at + 4] = 2 + (k % 3);
      b.writeUInt32LE(lastLsn + 1 + (k % 1000), at + 5);
      b.writeUInt32LE(lastLsn, at + 13);
      b.writeUInt32LE((crc32(b.subarray(at, at + 21)) ^ 1) >>> 0, at + 21);
      k++;
      at += 25;
    }
  }
  return b;
}

/**
 * The worst case for the marker scan: `19 00 00 00 03` repeated. Every 5th offset reads as a TxCommit-shaped
 * frame (length 25, kind 3, an LSN field of ~6403 × 2^32 + 25, above any real LSN here and below 2^53), so the scan
 * computes a CRC at each; none matches.
 */
function densePayload(bytes: number): Buffer {
  const b = Buffer.alloc(bytes);
  for (let i = 0; i + 5 <= bytes; i += 5) {
    b[i] = 25;
    b[i + 4] = 3;
  }
  return b;
}

function payloadOf(kind: TailKind, bytes: number, lastLsn: number): Buffer {
  return kind === "float"
    ? floatPayload(bytes)
    : kind === "hostile"
      ? hostilePayload(bytes, lastLsn)
      : densePayload(bytes);
}

/**
 * The torn record's bytes, from the library's own encoder (the record `appendBatch(tx, [payload])` writes; the
 * segment writer puts a record larger than its window on disk in window-sized pieces, header first, fsyncing
 * between them), then damaged as `tear` says:
 * - `cut`: a record whose payload is 1 MiB longer than `payload`, ending after `payload`'s last byte (a power loss
 *   while its last pieces were being written);
 * - `lostSector`: the whole record, with the 4 KiB block that ends 4 KiB before its end zeroed (a sector of the
 *   last, unsynced piece that never landed while later ones did);
 * - `headerZeroed`: the whole record with its first 512 bytes zeroed (header and the start of the payload). The
 *   damage then starts more than the unsynced window before the end, its header says nothing, and recovery opens it
 *   as a torn tail only after scanning every byte after it for an intact marker (`findIntactMarkerAfter`). The
 *   writer cannot leave this (the header was fsynced before the later pieces were written); it is the rule-4 case
 *   "damage followed by no intact marker".
 */
function tornRecord(tear: TearKind, payload: Buffer, beginLsn: number): Buffer {
  const lsn = beginLsn + 1;
  if (tear === "cut") {
    const longer = Buffer.alloc(payload.byteLength + MiB);
    payload.copy(longer);
    const whole = encodeRecord({ kind: "mutationBatch", lsn, txBeginLsn: beginLsn, events: [longer] }, bytesCodec);
    // Header (21) + bytesCodec batch framing (count u64, length u64) + the payload: no CRC, the rest never landed.
    return Buffer.from(whole.buffer, whole.byteOffset, 21 + 16 + payload.byteLength);
  }
  const whole = encodeRecord({ kind: "mutationBatch", lsn, txBeginLsn: beginLsn, events: [payload] }, bytesCodec);
  const b = Buffer.from(whole.buffer, whole.byteOffset, whole.byteLength);
  if (tear === "lostSector") b.fill(0, b.byteLength - 8192, b.byteLength - 4096);
  else b.fill(0, 0, 512);
  return b;
}

/** A log of three `commitTx` transactions and an open one (its TxBegin written): the prefix every tail follows. */
async function writeBaseLog(dir: string): Promise<{ beginLsn: number }> {
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true });
  const { wal } = await Wal.open(dir, { codec: bytesCodec });
  for (let i = 0; i < 3; i++) await wal.commitTx([Buffer.from(`event ${i}`)]);
  const beginLsn = await wal.begin();
  await wal.close();
  return { beginLsn };
}

function newestSegment(dir: string): string {
  const name = fs
    .readdirSync(dir)
    .filter((n) => n.endsWith(".wal"))
    .sort()
    .at(-1);
  if (name === undefined) throw new Error(`no segment in ${dir}`);
  return join(dir, name);
}

/** Copy the base log to `dir` and append `tail` to its newest segment, durably: the crash image. */
function prepareImage(baseDir: string, dir: string, tail: Buffer): { segment: string; offset: number } {
  fs.rmSync(dir, { recursive: true, force: true });
  fs.cpSync(baseDir, dir, { recursive: true });
  const segment = newestSegment(dir);
  const fd = fs.openSync(segment, "r+");
  try {
    const offset = fs.fstatSync(fd).size;
    for (let done = 0; done < tail.byteLength; )
      done += fs.writeSync(fd, tail, done, tail.byteLength - done, offset + done);
    fs.fdatasyncSync(fd);
    return { segment, offset };
  } finally {
    fs.closeSync(fd);
  }
}

/** Raw floor: read `[offset, end)` of `path` in 1 MiB pieces and CRC-32 them with zlib. */
function rawReadCrc(path: string, offset: number, chunk: Buffer): { seconds: number; bytes: number } {
  const t0 = now();
  const fd = fs.openSync(path, "r");
  let bytes = 0;
  let crc = 0;
  try {
    for (let at = offset; ; ) {
      const n = fs.readSync(fd, chunk, 0, chunk.byteLength, at);
      if (n === 0) break;
      crc = crc32(chunk.subarray(0, n), crc);
      at += n;
      bytes += n;
    }
  } finally {
    fs.closeSync(fd);
  }
  const seconds = (now() - t0) / 1000;
  if (crc === -1) throw new Error("unreachable");
  return { seconds, bytes };
}

/** Raw floor of the copy recovery keeps: `[offset, end)` of `path` into a new file in 1 MiB pieces, then fsync. */
function rawCopy(path: string, offset: number, target: string, chunk: Buffer): { seconds: number; bytes: number } {
  const t0 = now();
  const src = fs.openSync(path, "r");
  const out = fs.openSync(target, "wx");
  let bytes = 0;
  try {
    for (let at = offset; ; ) {
      const n = fs.readSync(src, chunk, 0, chunk.byteLength, at);
      if (n === 0) break;
      for (let w = 0; w < n; ) w += fs.writeSync(out, chunk, w, n - w, bytes + w);
      at += n;
      bytes += n;
    }
    fs.fsyncSync(out);
  } finally {
    fs.closeSync(src);
    fs.closeSync(out);
  }
  const seconds = (now() - t0) / 1000;
  fs.rmSync(target, { force: true });
  return { seconds, bytes };
}

async function timeReplay(dir: string, segment: string, offset: number): Promise<number> {
  const t0 = now();
  const replay = replayDir(dir, { codec: bytesCodec });
  for await (const _tx of replay) {
    // The three committed transactions; nothing to do with them.
  }
  const outcome = await replay.outcome();
  const seconds = (now() - t0) / 1000;
  const torn = outcome.tornTail;
  if (outcome.corruption !== null || torn === null || torn.segmentPath !== segment || torn.offset !== offset) {
    throw new Error(
      `replayDir did not report the torn tail at ${segment}:${offset} (tornTail ${JSON.stringify(torn)}, corruption ${JSON.stringify(outcome.corruption)})`,
    );
  }
  return seconds;
}

async function timeOpen(
  dir: string,
  segment: string,
  offset: number,
  tailBytes: number,
): Promise<{ seconds: number; cpuSeconds: number }> {
  const cpu0 = process.cpuUsage();
  const t0 = now();
  const { wal, tornTail, healed } = await Wal.open(dir, { codec: bytesCodec });
  const seconds = (now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  await wal.close();
  const cut = healed.find((h) => h.kind === "tornTailTruncated");
  if (
    tornTail === null ||
    tornTail.offset !== offset ||
    cut === undefined ||
    cut.segment !== segment ||
    cut.droppedBytes !== tailBytes ||
    !fs.existsSync(`${segment}.${offset}.broken`)
  ) {
    throw new Error(
      `Wal.open did not cut the ${tailBytes}-byte torn tail at ${segment}:${offset} (tornTail ${JSON.stringify(tornTail)}, healed ${JSON.stringify(healed)})`,
    );
  }
  return { seconds, cpuSeconds: (cpu.user + cpu.system) / 1e6 };
}

/**
 * One child's work: every (tail, tear) at `sizeMiB`, in an order rotated by `round`, each on a fresh crash image;
 * with `warmup`, the same at 1 MiB first, untimed (a fresh child's JIT is cold).
 */
export async function runTornTail(job: {
  readonly sizeMiB: number;
  readonly round: number;
  readonly workRoot: string;
  readonly warmup: boolean;
}): Promise<TornTailChildResult> {
  fs.mkdirSync(job.workRoot, { recursive: true });
  const baseDir = join(job.workRoot, "base");
  const { beginLsn } = await writeBaseLog(baseDir);
  const imageDir = join(job.workRoot, "image");
  const chunk = Buffer.allocUnsafe(MiB);
  const combos = TAIL_KINDS.flatMap((kind) => TEAR_KINDS.map((tear) => ({ kind, tear })));
  const order = combos.map((_, i) => combos[(i + job.round) % combos.length] as (typeof combos)[number]);

  const measure = async (sizeMiB: number): Promise<TornTailSample[]> => {
    const samples: TornTailSample[] = [];
    const payloads = new Map<TailKind, Buffer>();
    for (const { kind, tear } of order) {
      let payload = payloads.get(kind);
      if (payload === undefined) {
        payload = payloadOf(kind, sizeMiB * MiB, beginLsn);
        payloads.set(kind, payload);
      }
      const tail = tornRecord(tear, payload, beginLsn);
      const { segment, offset } = prepareImage(baseDir, imageDir, tail);
      const raw = rawReadCrc(segment, offset, chunk);
      if (raw.bytes !== tail.byteLength) throw new Error(`read ${raw.bytes} of ${tail.byteLength} tail bytes`);
      const replaySeconds = await timeReplay(imageDir, segment, offset);
      const open = await timeOpen(imageDir, segment, offset, tail.byteLength);
      samples.push({
        kind,
        tear,
        tailBytes: tail.byteLength,
        rawSeconds: raw.seconds,
        replaySeconds,
        openSeconds: open.seconds,
        openCpuSeconds: open.cpuSeconds,
      });
    }
    return samples;
  };

  try {
    if (job.warmup) await measure(1);
    const samples = await measure(job.sizeMiB);
    // The fixed cost of an open, and the raw floor of the copy (of a float tail), on images of their own.
    const noTail: number[] = [];
    let segment = "";
    let offset = 0;
    for (let i = 0; i < 3; i++) {
      ({ segment, offset } = prepareImage(baseDir, imageDir, Buffer.alloc(0)));
      const t0 = now();
      const { wal, healed } = await Wal.open(imageDir, { codec: bytesCodec });
      noTail.push((now() - t0) / 1000);
      await wal.close();
      if (healed.length !== 0) throw new Error(`the log without a tail was healed: ${JSON.stringify(healed)}`);
    }
    const noTailOpenSeconds = noTail.sort((a, b) => a - b)[1] as number;
    const image = prepareImage(baseDir, imageDir, tornRecord("cut", floatPayload(job.sizeMiB * MiB), beginLsn));
    const copy = rawCopy(image.segment, image.offset, join(job.workRoot, "copy.broken"), chunk);
    if (segment !== image.segment || offset !== image.offset) throw new Error("the base log changed");
    return { sizeMiB: job.sizeMiB, samples, noTailOpenSeconds, copySeconds: copy.seconds, copyBytes: copy.bytes };
  } finally {
    fs.rmSync(job.workRoot, { recursive: true, force: true });
  }
}

// ---- decode heap -------------------------------------------------------------------------------------------------

export type HeapShape = "clear" | "emptyMaps" | "createNode" | "deleteNode";

export const HEAP_SHAPES: readonly HeapShape[] = ["clear", "emptyMaps", "createNode", "deleteNode"];

export const HEAP_SHAPE_LABELS: Readonly<Record<HeapShape, string>> = {
  clear: "batch of 1,048,576 Clear events (1 byte each)",
  emptyMaps: "SetNodeProperty whose value is a list of 131,072 empty maps (9 bytes each)",
  createNode: "batch of 8,000 realistic CreateNode events (:Person, 7 properties)",
  deleteNode: "batch of 131,072 DeleteNode events (9 bytes each)",
};

export interface DecodeHeapSample {
  readonly shape: HeapShape;
  readonly recordBytes: number;
  readonly events: number;
  /** Per repetition: (heapUsed + arrayBuffers after) − (before), full GCs around the decode, ÷ record bytes. */
  readonly bytesPerInputByte: readonly number[];
  readonly heapUsedPerInputByte: readonly number[];
  readonly arrayBuffersPerInputByte: readonly number[];
}

function person(i: number): MutationEvent {
  const p: PropertyMap = createPropertyMap();
  p.id = BigInt(i);
  p.name = `user-${i}`;
  p.email = `user${i}@example.com`;
  p.age = BigInt(20 + (i % 50));
  p.score = i / 7;
  p.active = i % 2 === 0;
  p.tags = ["customer", i % 3 === 0 ? "vip" : "new"];
  return { type: "CreateNode", id: BigInt(i), labels: ["Person"], properties: p };
}

/** The events of a shape, `scale` of its full size (the warm-up decodes a small one). */
function shapeEvents(shape: HeapShape, scale: number): MutationEvent[] {
  const n = (full: number): number => Math.max(1, Math.floor(full * scale));
  switch (shape) {
    case "clear":
      return Array.from({ length: n(1 << 20) }, () => ({ type: "Clear" }) as const);
    case "emptyMaps":
      return [
        {
          type: "SetNodeProperty",
          nodeId: 1n,
          key: "maps",
          value: Array.from({ length: n(1 << 17) }, () => createPropertyMap()),
        },
      ];
    case "createNode":
      return Array.from({ length: n(8000) }, (_, i) => person(i));
    case "deleteNode":
      return Array.from({ length: n(1 << 17) }, (_, i) => ({ type: "DeleteNode", nodeId: BigInt(i) }) as const);
  }
}

function recordOf(shape: HeapShape, scale: number): Uint8Array {
  return encodeRecord({ kind: "mutationBatch", lsn: 2, txBeginLsn: 1, events: shapeEvents(shape, scale) }, loraCodec);
}

/** Heap retained by decoding one CRC-valid `loraCodec` record of `shape`; needs `--expose-gc`. */
export function measureDecodeHeap(shape: HeapShape, repeats: number): DecodeHeapSample {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc === undefined) throw new Error("decode-heap needs node --expose-gc");
  const full = (): void => {
    gc();
    gc();
  };
  // Warm-up on a small record of the same shape: compiles the decoder without leaving a large heap behind.
  const small = recordOf(shape, 1 / 64);
  for (let i = 0; i < 20; i++) decodeRecord(small, 0, loraCodec);
  const bytes = recordOf(shape, 1);
  let events = 0;
  const total: number[] = [];
  const heap: number[] = [];
  const external: number[] = [];
  for (let r = 0; r < repeats; r++) {
    full();
    const m0 = process.memoryUsage();
    let result: ReturnType<typeof decodeRecord<MutationEvent>> | undefined = decodeRecord(bytes, 0, loraCodec);
    full();
    const m1 = process.memoryUsage();
    if (result.kind !== "record" || result.record.kind !== "mutationBatch") {
      throw new Error(
        `the ${shape} record did not decode: ${JSON.stringify(result.kind === "corrupt" ? result.error.message : result)}`,
      );
    }
    events = result.record.events.length;
    const h = m1.heapUsed - m0.heapUsed;
    const a = m1.arrayBuffers - m0.arrayBuffers;
    heap.push(h / bytes.byteLength);
    external.push(a / bytes.byteLength);
    total.push((h + a) / bytes.byteLength);
    result = undefined;
  }
  return {
    shape,
    recordBytes: bytes.byteLength,
    events,
    bytesPerInputByte: total,
    heapUsedPerInputByte: heap,
    arrayBuffersPerInputByte: external,
  };
}
