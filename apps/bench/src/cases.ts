/**
 * The measured cases. Each one runs in a child process (see `main.ts`) against a fresh directory and returns how many
 * operations it completed and how long the timed part took. Preparation (filling a store to read back, copying a
 * directory) is never timed. Every case writes the same 100-byte payload.
 */

import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import { mkdir, readdir, readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import { crc32 } from "node:zlib";
import { Wal } from "@lora/wal";
import { bytesCodec } from "@lora/wal-codec";
import { loraCodec } from "@lora/wal-codec/lora";
import { replayDir } from "@lora/wal-replay";

export const PAYLOAD_BYTES = 100;

export interface CaseParams {
  /** Operations per round (commits, records, rows). */
  readonly count: number;
  /** Concurrent awaiting writers. */
  readonly concurrency: number;
  /** A round stops early once this much time has passed (its rate is still ops / elapsed). */
  readonly timeLimitMs: number;
}

export interface Measure {
  readonly ops: number;
  readonly seconds: number;
  /** Bytes read or written by the timed part, where meaningful. */
  readonly bytes?: number;
  /** write() and fdatasync() calls the WAL made (from `ioStats`). */
  readonly writes?: number;
  readonly syncs?: number;
  /**
   * CPU seconds (user + system, all threads) the timed part used. On a shared machine wall time includes waiting
   * for a core; ops / cpuSeconds is the contention-free rate of CPU-bound work.
   */
  readonly cpuSeconds?: number;
}

export interface CaseContext {
  /** A fresh, empty directory for this round. */
  readonly dir: string;
  /** A prepared, read-only dataset (replay cases). */
  readonly dataDir: string;
  readonly p: CaseParams;
}

export type CaseFn = (ctx: CaseContext) => Promise<Measure>;

/** What a prepared log holds (stored next to the dataset directory). */
export interface DatasetMeta {
  readonly transactions: number;
  readonly records: number;
  readonly events: number;
  readonly bytes: number;
}

// ---- helpers -----------------------------------------------------------------------------------------------

export function makePayload(): Buffer {
  const b = Buffer.alloc(PAYLOAD_BYTES);
  let x = 0x9e3779b9;
  for (let i = 0; i < b.length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    b[i] = x & 0xff;
  }
  return b;
}

const now = (): number => performance.now();

function cpuSince(start: NodeJS.CpuUsage): number {
  const u = process.cpuUsage(start);
  return (u.user + u.system) / 1e6;
}

function key8(i: number): Uint8Array {
  const k = Buffer.allocUnsafe(8);
  k.writeUInt32BE(Math.floor(i / 0x1_0000_0000), 0);
  k.writeUInt32BE(i >>> 0, 4);
  return k;
}

/** Run `concurrency` closed-loop writers until `count` operations were issued or time ran out. */
export async function closedLoop(
  p: CaseParams,
  op: (i: number) => Promise<unknown>,
): Promise<{ ops: number; seconds: number; cpuSeconds: number }> {
  let issued = 0;
  const cpu0 = process.cpuUsage();
  const t0 = now();
  const deadline = t0 + p.timeLimitMs;
  const worker = async (): Promise<void> => {
    while (issued < p.count && now() < deadline) {
      const i = issued++;
      await op(i);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, p.concurrency) }, worker));
  return { ops: issued, seconds: (now() - t0) / 1000, cpuSeconds: cpuSince(cpu0) };
}

function cbWrite(fd: number, data: Uint8Array, position: number): Promise<void> {
  return new Promise((resolve, reject) => {
    fs.write(fd, data, 0, data.byteLength, position, (err) => (err ? reject(err) : resolve()));
  });
}

function cbDatasync(fd: number): Promise<void> {
  return new Promise((resolve, reject) => fs.fdatasync(fd, (err) => (err ? reject(err) : resolve())));
}

async function segmentFiles(dir: string): Promise<string[]> {
  return (await readdir(dir))
    .filter((n) => n.endsWith(".wal"))
    .sort()
    .map((n) => join(dir, n));
}

export async function dirBytes(dir: string): Promise<number> {
  let total = 0;
  for (const f of await segmentFiles(dir)) total += (await stat(f)).size;
  return total;
}

export async function readMeta(dataDir: string): Promise<DatasetMeta> {
  return JSON.parse(await readFile(`${dataDir}.json`, "utf8")) as DatasetMeta;
}

// ---- @lora/wal -----------------------------------------------------------------------------------------------

async function loraCommits(ctx: CaseContext, syncMode: "perCommit" | "none", blockingSync = false): Promise<Measure> {
  const { wal } = await Wal.open(ctx.dir, { codec: bytesCodec, syncMode, blockingSync });
  const payload = makePayload();
  const r = await closedLoop(ctx.p, () => wal.commitTx([payload]));
  const io = wal.ioStats();
  await wal.close();
  return { ...r, writes: io.writes, syncs: io.syncs };
}

/** Buffered appends: transactions of 1000 `appendBatch` records, one `flush()` at the end. */
async function loraBuffered(ctx: CaseContext): Promise<Measure> {
  const { wal } = await Wal.open(ctx.dir, { codec: bytesCodec, syncMode: "perCommit" });
  const payload = makePayload();
  const events = [payload];
  const cpu0 = process.cpuUsage();
  const t0 = now();
  const deadline = t0 + ctx.p.timeLimitMs;
  let done = 0;
  while (done < ctx.p.count && now() < deadline) {
    const tx = await wal.begin();
    const m = Math.min(1000, ctx.p.count - done);
    for (let j = 0; j < m; j++) await wal.appendBatch(tx, events);
    await wal.commit(tx);
    done += m;
  }
  await wal.flush();
  const seconds = (now() - t0) / 1000;
  const cpuSeconds = cpuSince(cpu0);
  const io = wal.ioStats();
  await wal.close();
  return { ops: done, seconds, cpuSeconds, writes: io.writes, syncs: io.syncs };
}

async function loraReplay(ctx: CaseContext): Promise<Measure> {
  const bytes = await dirBytes(ctx.dataDir);
  const cpu0 = process.cpuUsage();
  const t0 = now();
  const replay = replayDir(ctx.dataDir, { codec: bytesCodec });
  let events = 0;
  for await (const tx of replay) events += tx.events.length;
  const outcome = await replay.outcome();
  const seconds = (now() - t0) / 1000;
  const cpuSeconds = cpuSince(cpu0);
  if (events === 0) throw new Error("replay found no events");
  return { ops: outcome.records, seconds, cpuSeconds, bytes };
}

/** Replay counted in events (100-byte payloads), for comparison with stores that read rows back. */
async function loraReplayEvents(ctx: CaseContext): Promise<Measure> {
  const cpu0 = process.cpuUsage();
  const t0 = now();
  let events = 0;
  for await (const tx of replayDir(ctx.dataDir, { codec: bytesCodec })) events += tx.events.length;
  return { ops: events, seconds: (now() - t0) / 1000, cpuSeconds: cpuSince(cpu0) };
}

/** Streaming open: `Wal.open` with `onTransaction` (replay, heal checks, writer ready), then close. */
async function loraOpenStreaming(ctx: CaseContext): Promise<Measure> {
  const bytes = await dirBytes(ctx.dataDir);
  let events = 0;
  const cpu0 = process.cpuUsage();
  const t0 = now();
  const { wal, replay } = await Wal.open(ctx.dataDir, {
    codec: bytesCodec,
    onTransaction: (tx) => {
      events += tx.events.length;
    },
  });
  const seconds = (now() - t0) / 1000;
  const cpuSeconds = cpuSince(cpu0);
  await wal.close();
  if (events === 0) throw new Error("open replayed no events");
  return { ops: replay?.records ?? 0, seconds, cpuSeconds, bytes };
}

/** Replay a LoraDB-written directory with `loraCodec` (decodes every LW1 event); counted in mutation events. */
async function loraReplayLoraDir(ctx: CaseContext): Promise<Measure> {
  const cpu0 = process.cpuUsage();
  const t0 = now();
  let events = 0;
  for await (const tx of replayDir(ctx.dataDir, { codec: loraCodec })) events += tx.events.length;
  return { ops: events, seconds: (now() - t0) / 1000, cpuSeconds: cpuSince(cpu0) };
}

// ---- raw fs baselines ----------------------------------------------------------------------------------------

async function rawWriteFdatasync(ctx: CaseContext): Promise<Measure> {
  const fd = fs.openSync(join(ctx.dir, "raw.log"), "w");
  const payload = makePayload();
  const r = await closedLoop({ ...ctx.p, concurrency: 1 }, async (i) => {
    await cbWrite(fd, payload, i * PAYLOAD_BYTES);
    await cbDatasync(fd);
  });
  fs.closeSync(fd);
  return r;
}

function rawWriteSyncFdatasyncSync(ctx: CaseContext): Promise<Measure> {
  const fd = fs.openSync(join(ctx.dir, "raw.log"), "w");
  const payload = makePayload();
  const cpu0 = process.cpuUsage();
  const t0 = now();
  const deadline = t0 + ctx.p.timeLimitMs;
  let i = 0;
  for (; i < ctx.p.count && now() < deadline; i++) {
    fs.writeSync(fd, payload, 0, PAYLOAD_BYTES, i * PAYLOAD_BYTES);
    fs.fdatasyncSync(fd);
  }
  const seconds = (now() - t0) / 1000;
  const cpuSeconds = cpuSince(cpu0);
  fs.closeSync(fd);
  return Promise.resolve({ ops: i, seconds, cpuSeconds });
}

async function rawWriteAsync(ctx: CaseContext): Promise<Measure> {
  const fd = fs.openSync(join(ctx.dir, "raw.log"), "w");
  const payload = makePayload();
  const r = await closedLoop({ ...ctx.p, concurrency: 1 }, (i) => cbWrite(fd, payload, i * PAYLOAD_BYTES));
  fs.closeSync(fd);
  return r;
}

function rawWriteSync(ctx: CaseContext): Promise<Measure> {
  const fd = fs.openSync(join(ctx.dir, "raw.log"), "w");
  const payload = makePayload();
  const cpu0 = process.cpuUsage();
  const t0 = now();
  const deadline = t0 + ctx.p.timeLimitMs;
  let i = 0;
  for (; i < ctx.p.count && (i & 1023 || now() < deadline); i++) {
    fs.writeSync(fd, payload, 0, PAYLOAD_BYTES, i * PAYLOAD_BYTES);
  }
  const seconds = (now() - t0) / 1000;
  const cpuSeconds = cpuSince(cpu0);
  fs.closeSync(fd);
  return Promise.resolve({ ops: i, seconds, cpuSeconds });
}

/**
 * The physical floor of buffered appends: frame each record by hand (LoraDB's MutationBatch layout, CRC-32 per
 * record) into a 1 MiB buffer, `writeSync` it when full, one fdatasync at the end.
 */
function rawEncodeFrames(ctx: CaseContext): Promise<Measure> {
  const fd = fs.openSync(join(ctx.dir, "raw.log"), "w");
  const payload = makePayload();
  const recordBytes = 4 + 1 + 8 + 8 + 8 + 8 + PAYLOAD_BYTES + 4;
  const buf = Buffer.allocUnsafe(1 << 20);
  let used = 0;
  let position = 0;
  const cpu0 = process.cpuUsage();
  const t0 = now();
  let i = 0;
  for (; i < ctx.p.count; i++) {
    if (used + recordBytes > buf.length) {
      fs.writeSync(fd, buf, 0, used, position);
      position += used;
      used = 0;
    }
    const at = used;
    buf.writeUInt32LE(recordBytes, at);
    buf[at + 4] = 6;
    buf.writeUInt32LE(i + 2, at + 5);
    buf.writeUInt32LE(0, at + 9);
    buf.writeUInt32LE(1, at + 13);
    buf.writeUInt32LE(0, at + 17);
    buf.writeUInt32LE(1, at + 21);
    buf.writeUInt32LE(0, at + 25);
    buf.writeUInt32LE(PAYLOAD_BYTES, at + 29);
    buf.writeUInt32LE(0, at + 33);
    buf.set(payload, at + 37);
    const body = at + recordBytes - 4;
    buf.writeUInt32LE(crc32(buf.subarray(at, body)), body);
    used += recordBytes;
  }
  fs.writeSync(fd, buf, 0, used, position);
  fs.fdatasyncSync(fd);
  const seconds = (now() - t0) / 1000;
  const cpuSeconds = cpuSince(cpu0);
  fs.closeSync(fd);
  return Promise.resolve({ ops: i, seconds, cpuSeconds });
}

/** Frame one record by hand at `at` (u64 fields from safe integers, CRC-32 with zlib); returns its length. */
function frameByHand(buf: Buffer, at: number, kind: number, lsn: number, slot: number, body?: Uint8Array): number {
  const length = 25 + (body === undefined ? 0 : 16 + body.byteLength);
  buf.writeUInt32LE(length, at);
  buf[at + 4] = kind;
  buf.writeUInt32LE(lsn >>> 0, at + 5);
  buf.writeUInt32LE(Math.floor(lsn / 2 ** 32), at + 9);
  buf.writeUInt32LE(slot >>> 0, at + 13);
  buf.writeUInt32LE(Math.floor(slot / 2 ** 32), at + 17);
  if (body !== undefined) {
    // bytesCodec batch of one event: count u64, length u64, bytes.
    buf.writeUInt32LE(1, at + 21);
    buf.writeUInt32LE(0, at + 25);
    buf.writeUInt32LE(body.byteLength, at + 29);
    buf.writeUInt32LE(0, at + 33);
    buf.set(body, at + 37);
  }
  const crcAt = at + length - 4;
  buf.writeUInt32LE(crc32(buf.subarray(at, crcAt)), crcAt);
  return length;
}

/** Frame one `commitTx` by hand at `at` — TxBegin, a one-event MutationBatch, TxCommit — and return its length. */
function frameCommitByHand(buf: Buffer, at: number, begin: number, payload: Uint8Array): number {
  let used = frameByHand(buf, at, 2, begin, 0);
  used += frameByHand(buf, at + used, 6, begin + 1, begin, payload);
  used += frameByHand(buf, at + used, 3, begin + 2, begin);
  return used;
}

/**
 * The floor of a `none`-mode commit: what it must do per transaction, written by hand — frame TxBegin, a
 * one-event MutationBatch and TxCommit (CRC each) and hand them to the OS with one `writeSync` — in a synchronous
 * loop with no promise per commit.
 */
function rawFramedCommitWriteSync(ctx: CaseContext): Promise<Measure> {
  const fd = fs.openSync(join(ctx.dir, "raw.log"), "w");
  const payload = makePayload();
  const buf = Buffer.allocUnsafe(4096);
  const cpu0 = process.cpuUsage();
  const t0 = now();
  const deadline = t0 + ctx.p.timeLimitMs;
  let position = 0;
  let i = 0;
  for (; i < ctx.p.count && (i & 1023 || now() < deadline); i++) {
    const used = frameCommitByHand(buf, 0, 1 + 3 * i, payload);
    fs.writeSync(fd, buf, 0, used, position);
    position += used;
  }
  const seconds = (now() - t0) / 1000;
  const cpuSeconds = cpuSince(cpu0);
  fs.closeSync(fd);
  return Promise.resolve({ ops: i, seconds, cpuSeconds });
}

/**
 * The floor of serial group commit at 64 writers: rounds of 64 hand-framed commits (as in
 * {@link rawFramedCommitWriteSync}), each round one `writeSync` and one `fdatasyncSync`, with no promise, no waiter
 * and no second writer. What a log that syncs one round at a time can reach on this disk; counted in commits.
 */
function rawGroupRounds64(ctx: CaseContext): Promise<Measure> {
  const fd = fs.openSync(join(ctx.dir, "raw.log"), "w");
  const payload = makePayload();
  const buf = Buffer.allocUnsafe(64 * 256);
  const cpu0 = process.cpuUsage();
  const t0 = now();
  const deadline = t0 + ctx.p.timeLimitMs;
  let position = 0;
  let i = 0;
  while (i < ctx.p.count && now() < deadline) {
    let used = 0;
    for (let k = 0; k < 64; k++, i++) used += frameCommitByHand(buf, used, 1 + 3 * i, payload);
    fs.writeSync(fd, buf, 0, used, position);
    fs.fdatasyncSync(fd);
    position += used;
  }
  const seconds = (now() - t0) / 1000;
  const cpuSeconds = cpuSince(cpu0);
  fs.closeSync(fd);
  return Promise.resolve({ ops: i, seconds, cpuSeconds });
}

/**
 * The same 64 commits in flight as {@link rawGroupRounds64}, but as two overlapping rounds of 32: two lanes, each
 * with its own descriptor of the file (so each sees every writeback error), each writing its 32 hand-framed commits
 * with `fs.write` and syncing them with `fdatasync` while the other lane's flush may be in progress. Whether this disk
 * gains anything from more than one flush in flight, without any of the log's own work.
 */
async function rawOverlappedRounds64(ctx: CaseContext): Promise<Measure> {
  const path = join(ctx.dir, "raw.log");
  fs.closeSync(fs.openSync(path, "w"));
  const lanes = 2;
  const perRound = 64 / lanes;
  const payload = makePayload();
  const cpu0 = process.cpuUsage();
  const t0 = now();
  const deadline = t0 + ctx.p.timeLimitMs;
  let position = 0;
  let done = 0;
  const lane = async (): Promise<void> => {
    const fd = fs.openSync(path, "r+");
    const buf = Buffer.allocUnsafe(perRound * 256);
    try {
      while (done < ctx.p.count && now() < deadline) {
        let used = 0;
        for (let k = 0; k < perRound; k++) used += frameCommitByHand(buf, used, 1 + 3 * (done + k), payload);
        const at = position;
        position += used;
        done += perRound;
        await cbWrite(fd, buf.subarray(0, used), at);
        await cbDatasync(fd);
      }
    } finally {
      fs.closeSync(fd);
    }
  };
  await Promise.all(Array.from({ length: lanes }, lane));
  const seconds = (now() - t0) / 1000;
  return { ops: done, seconds, cpuSeconds: cpuSince(cpu0) };
}

/** `readFile` + one `zlib.crc32` over each whole segment file: the read bandwidth the replay could reach. */
async function rawReadCrc(ctx: CaseContext): Promise<Measure> {
  const meta = await readMeta(ctx.dataDir);
  const files = await segmentFiles(ctx.dataDir);
  const cpu0 = process.cpuUsage();
  const t0 = now();
  let bytes = 0;
  let acc = 0;
  for (const f of files) {
    const b = await readFile(f);
    acc ^= crc32(b);
    bytes += b.byteLength;
  }
  const seconds = (now() - t0) / 1000;
  const cpuSeconds = cpuSince(cpu0);
  if (acc === 0.5) throw new Error("unreachable");
  return { ops: meta.records, seconds, cpuSeconds, bytes };
}

/** `readFile` + walk the frames, CRC-32 of each record checked: the per-record floor in JavaScript. */
async function rawReadWalk(ctx: CaseContext): Promise<Measure> {
  const files = await segmentFiles(ctx.dataDir);
  const cpu0 = process.cpuUsage();
  const t0 = now();
  let bytes = 0;
  let records = 0;
  for (const f of files) {
    const b = await readFile(f);
    bytes += b.byteLength;
    let at = 32; // segment header
    while (at + 4 <= b.length) {
      const len = b.readUInt32LE(at);
      if (len < 25 || at + len > b.length) break;
      if (crc32(b.subarray(at, at + len - 4)) !== b.readUInt32LE(at + len - 4)) throw new Error(`bad crc in ${f}`);
      at += len;
      records++;
    }
  }
  return { ops: records, seconds: (now() - t0) / 1000, cpuSeconds: cpuSince(cpu0), bytes };
}

// ---- better-sqlite3 ------------------------------------------------------------------------------------------

type SqliteDb = import("better-sqlite3").Database;

async function openSqlite(dir: string, synchronous: "FULL" | "NORMAL"): Promise<SqliteDb> {
  const { default: Database } = await import("better-sqlite3");
  const db = new Database(join(dir, "bench.sqlite"));
  db.pragma("journal_mode = WAL");
  db.pragma(`synchronous = ${synchronous}`);
  db.exec("CREATE TABLE IF NOT EXISTS log (id INTEGER PRIMARY KEY, v BLOB NOT NULL)");
  return db;
}

function sqliteCommits(synchronous: "FULL" | "NORMAL"): CaseFn {
  return async (ctx) => {
    const db = await openSqlite(ctx.dir, synchronous);
    const insert = db.prepare("INSERT INTO log (id, v) VALUES (?, ?)");
    const payload = makePayload();
    const cpu0 = process.cpuUsage();
    const t0 = now();
    const deadline = t0 + ctx.p.timeLimitMs;
    let i = 0;
    for (; i < ctx.p.count && now() < deadline; i++) insert.run(i, payload);
    const seconds = (now() - t0) / 1000;
    const cpuSeconds = cpuSince(cpu0);
    db.close();
    return { ops: i, seconds, cpuSeconds };
  };
}

/** Bulk insert: `db.transaction` of 1000 inserts (WAL, synchronous NORMAL), the idiomatic batch. */
async function sqliteBulk(ctx: CaseContext): Promise<Measure> {
  const db = await openSqlite(ctx.dir, "NORMAL");
  const insert = db.prepare("INSERT INTO log (id, v) VALUES (?, ?)");
  const payload = makePayload();
  const batch = db.transaction((from: number, to: number) => {
    for (let i = from; i < to; i++) insert.run(i, payload);
  });
  const cpu0 = process.cpuUsage();
  const t0 = now();
  for (let i = 0; i < ctx.p.count; i += 1000) batch(i, Math.min(ctx.p.count, i + 1000));
  db.pragma("wal_checkpoint(FULL)");
  const seconds = (now() - t0) / 1000;
  const cpuSeconds = cpuSince(cpu0);
  db.close();
  return { ops: ctx.p.count, seconds, cpuSeconds };
}

async function sqliteScan(ctx: CaseContext): Promise<Measure> {
  const meta = await readMeta(ctx.dataDir);
  const db = await openSqlite(ctx.dir, "NORMAL");
  const insert = db.prepare("INSERT INTO log (id, v) VALUES (?, ?)");
  const payload = makePayload();
  db.transaction(() => {
    for (let i = 0; i < meta.events; i++) insert.run(i, payload);
  })();
  db.close();
  const cpu0 = process.cpuUsage();
  const t0 = now();
  const reopened = await openSqlite(ctx.dir, "NORMAL");
  let rows = 0;
  for (const row of reopened.prepare("SELECT v FROM log").iterate()) {
    if ((row as { v: Uint8Array }).v.byteLength === PAYLOAD_BYTES) rows++;
  }
  const seconds = (now() - t0) / 1000;
  const cpuSeconds = cpuSince(cpu0);
  reopened.close();
  return { ops: rows, seconds, cpuSeconds };
}

// ---- classic-level -------------------------------------------------------------------------------------------

async function openLevel(dir: string) {
  const { ClassicLevel } = await import("classic-level");
  const db = new ClassicLevel<Uint8Array, Uint8Array>(join(dir, "level"), {
    keyEncoding: "view",
    valueEncoding: "view",
  });
  await db.open();
  return db;
}

function levelPuts(sync: boolean): CaseFn {
  return async (ctx) => {
    const db = await openLevel(ctx.dir);
    const payload = makePayload();
    const r = await closedLoop(ctx.p, (i) => db.put(key8(i), payload, { sync }));
    await db.close();
    return r;
  };
}

/** Chained batches of 1000 puts (`sync: false`), the idiomatic bulk write; closing flushes. */
async function levelBulk(ctx: CaseContext): Promise<Measure> {
  const db = await openLevel(ctx.dir);
  const payload = makePayload();
  const cpu0 = process.cpuUsage();
  const t0 = now();
  for (let i = 0; i < ctx.p.count; i += 1000) {
    const batch = db.batch();
    for (let j = i; j < Math.min(ctx.p.count, i + 1000); j++) batch.put(key8(j), payload);
    await batch.write();
  }
  await db.put(key8(ctx.p.count), payload, { sync: true });
  const seconds = (now() - t0) / 1000;
  const cpuSeconds = cpuSince(cpu0);
  await db.close();
  return { ops: ctx.p.count, seconds, cpuSeconds };
}

async function levelScan(ctx: CaseContext): Promise<Measure> {
  const meta = await readMeta(ctx.dataDir);
  const db = await openLevel(ctx.dir);
  const payload = makePayload();
  for (let i = 0; i < meta.events; i += 1000) {
    const batch = db.batch();
    for (let j = i; j < Math.min(meta.events, i + 1000); j++) batch.put(key8(j), payload);
    await batch.write();
  }
  await db.close();
  const cpu0 = process.cpuUsage();
  const t0 = now();
  const reopened = await openLevel(ctx.dir);
  let rows = 0;
  for await (const value of reopened.values()) if (value.byteLength === PAYLOAD_BYTES) rows++;
  const seconds = (now() - t0) / 1000;
  const cpuSeconds = cpuSince(cpu0);
  await reopened.close();
  return { ops: rows, seconds, cpuSeconds };
}

// ---- lmdb-js -------------------------------------------------------------------------------------------------

async function openLmdb(dir: string) {
  const { open } = await import("lmdb");
  // overlappingSync off: put() resolves after the commit is flushed (the durable point), as the DESIGN compares.
  return open<Buffer, number>({
    path: join(dir, "lmdb"),
    compression: false,
    encoding: "binary",
    overlappingSync: false,
  });
}

async function lmdbPuts(ctx: CaseContext): Promise<Measure> {
  const db = await openLmdb(ctx.dir);
  const payload = makePayload();
  const r = await closedLoop(ctx.p, (i) => db.put(i, payload));
  await db.close();
  return r;
}

/** Puts issued without awaiting (lmdb batches an event turn into one transaction), awaited every 65,536. */
async function lmdbBulk(ctx: CaseContext): Promise<Measure> {
  const db = await openLmdb(ctx.dir);
  const payload = makePayload();
  const cpu0 = process.cpuUsage();
  const t0 = now();
  let last: Promise<boolean> | undefined;
  for (let i = 0; i < ctx.p.count; i++) {
    last = db.put(i, payload);
    if ((i & 0xffff) === 0xffff) await last;
  }
  await last;
  await db.flushed;
  const seconds = (now() - t0) / 1000;
  const cpuSeconds = cpuSince(cpu0);
  await db.close();
  return { ops: ctx.p.count, seconds, cpuSeconds };
}

async function lmdbScan(ctx: CaseContext): Promise<Measure> {
  const meta = await readMeta(ctx.dataDir);
  const db = await openLmdb(ctx.dir);
  const payload = makePayload();
  let last: Promise<boolean> | undefined;
  for (let i = 0; i < meta.events; i++) {
    last = db.put(i, payload);
    if ((i & 0xffff) === 0xffff) await last;
  }
  await last;
  await db.close();
  const cpu0 = process.cpuUsage();
  const t0 = now();
  const reopened = await openLmdb(ctx.dir);
  let rows = 0;
  for (const { value } of reopened.getRange()) if (value.byteLength === PAYLOAD_BYTES) rows++;
  const seconds = (now() - t0) / 1000;
  const cpuSeconds = cpuSince(cpu0);
  await reopened.close();
  return { ops: rows, seconds, cpuSeconds };
}

// ---- LoraDB engine -------------------------------------------------------------------------------------------

/** LoraDB's own open of a copy of the same directory: replay + graph rebuild in Rust. Counted in mutation events. */
async function loradbOpen(ctx: CaseContext): Promise<Measure> {
  const meta = await readMeta(ctx.dataDir);
  const walDir = join(ctx.dir, "wal");
  execFileSync("cp", ["-r", ctx.dataDir, walDir]);
  fs.rmSync(join(walDir, ".lora-wal.lock"), { force: true });
  const { openWalDatabase } = await import("@loradb/lora-node");
  const cpu0 = process.cpuUsage();
  const t0 = now();
  const db = await openWalDatabase({ walDir });
  const seconds = (now() - t0) / 1000;
  const cpuSeconds = cpuSince(cpu0);
  db.dispose();
  return { ops: meta.events, seconds, cpuSeconds };
}

// ---- datasets ------------------------------------------------------------------------------------------------

/**
 * A @lora/wal log of at least `bytes` bytes, laid out as `commitTx([100 bytes])` writes it (TxBegin, one
 * MutationBatch of one event, TxCommit per transaction), written with buffered appends for speed.
 */
export async function prepareWalLog(dataDir: string, bytes: number): Promise<DatasetMeta> {
  await mkdir(dataDir, { recursive: true });
  const { wal } = await Wal.open(dataDir, { codec: bytesCodec, syncMode: "none" });
  const payload = makePayload();
  const events = [payload];
  const perTx = 25 + (25 + 8 + 8 + PAYLOAD_BYTES) + 25;
  const transactions = Math.max(1, Math.ceil(bytes / perTx));
  for (let i = 0; i < transactions; i++) {
    const tx = await wal.begin();
    await wal.appendBatch(tx, events);
    await wal.commit(tx);
    if ((i & 0x3fff) === 0x3fff) await wal.flush();
  }
  await wal.close();
  fs.rmSync(join(dataDir, ".lora-wal.lock"), { force: true });
  const meta: DatasetMeta = {
    transactions,
    records: transactions * 3,
    events: transactions,
    bytes: await dirBytes(dataDir),
  };
  fs.writeFileSync(`${dataDir}.json`, JSON.stringify(meta));
  return meta;
}

/** A LoraDB-written WAL: `nodes` `:Bench {i, p}` nodes (p a 100-character string), 1000 per transaction. */
export async function prepareLoraEngineLog(dataDir: string, nodes: number): Promise<DatasetMeta> {
  const { openWalDatabase } = await import("@loradb/lora-node");
  const db = await openWalDatabase({ walDir: dataDir });
  const p = "x".repeat(PAYLOAD_BYTES);
  let transactions = 0;
  for (let i = 0; i < nodes; i += 1000) {
    await db.execute("UNWIND range($from, $to) AS i CREATE (:Bench {i: i, p: $p})", {
      from: i,
      to: Math.min(nodes, i + 1000) - 1,
      p,
    });
    transactions++;
  }
  db.dispose();
  let events = 0;
  let records = 0;
  const replay = replayDir(dataDir, { codec: loraCodec });
  for await (const tx of replay) events += tx.events.length;
  records = (await replay.outcome()).records;
  const meta: DatasetMeta = { transactions, records, events, bytes: await dirBytes(dataDir) };
  fs.writeFileSync(`${dataDir}.json`, JSON.stringify(meta));
  return meta;
}

export const CASES: Readonly<Record<string, CaseFn>> = {
  "lora.perCommit": (ctx) => loraCommits(ctx, "perCommit"),
  "lora.perCommitBlocking": (ctx) => loraCommits(ctx, "perCommit", true),
  "lora.none": (ctx) => loraCommits(ctx, "none"),
  "lora.buffered": loraBuffered,
  "lora.replay": loraReplay,
  "lora.replayEvents": loraReplayEvents,
  "lora.openStreaming": loraOpenStreaming,
  "lora.replayLoraDir": loraReplayLoraDir,
  "raw.writeFdatasync": rawWriteFdatasync,
  "raw.writeSyncFdatasyncSync": rawWriteSyncFdatasyncSync,
  "raw.writeAsync": rawWriteAsync,
  "raw.writeSync": rawWriteSync,
  "raw.framedCommitWriteSync": rawFramedCommitWriteSync,
  "raw.groupRounds64": rawGroupRounds64,
  "raw.overlappedRounds64": rawOverlappedRounds64,
  "raw.encodeFrames": rawEncodeFrames,
  "raw.readCrc": rawReadCrc,
  "raw.readWalk": rawReadWalk,
  "sqlite.full": sqliteCommits("FULL"),
  "sqlite.normal": sqliteCommits("NORMAL"),
  "sqlite.bulk": sqliteBulk,
  "sqlite.scan": sqliteScan,
  "level.sync": levelPuts(true),
  "level.nosync": levelPuts(false),
  "level.bulk": levelBulk,
  "level.scan": levelScan,
  "lmdb.put": lmdbPuts,
  "lmdb.bulk": lmdbBulk,
  "lmdb.scan": lmdbScan,
  "loradb.open": loradbOpen,
};
