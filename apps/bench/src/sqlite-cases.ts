/** better-sqlite3 in WAL mode: commits at each `synchronous` level, a bulk insert, and a scan after reopening. */

import { join } from "node:path";
import type { CaseContext, CaseFn, Measure } from "./case-types.js";
import { readMeta } from "./datasets.js";
import { makePayload, PAYLOAD_BYTES } from "./payload.js";
import { closedLoop, cpuSince, now } from "./timing.js";
import { TurnBatcher } from "./turn-batcher.js";

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

/**
 * FULL commits from concurrent writers as an expert batches them: the inserts asked for in one event-loop turn are
 * one `db.transaction` (one WAL fsync), and each writer is answered after it.
 */
async function sqliteFullBatched(ctx: CaseContext): Promise<Measure> {
  const db = await openSqlite(ctx.dir, "FULL");
  const insert = db.prepare("INSERT INTO log (id, v) VALUES (?, ?)");
  const payload = makePayload();
  const commit = db.transaction((ids: readonly number[]) => {
    for (const id of ids) insert.run(id, payload);
  });
  const batcher = new TurnBatcher<number>((ids) => commit(ids));
  const r = await closedLoop(ctx.p, (i) => batcher.write(i));
  db.close();
  return r;
}

/** Bulk insert: `db.transaction` of 1000 inserts (WAL, synchronous NORMAL), the idiomatic batch; nothing synced. */
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
  // No checkpoint: the workload asks for nothing durable (the log side only flushes to the OS).
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

export const SQLITE_CASES: Readonly<Record<string, CaseFn>> = {
  "sqlite.full": sqliteCommits("FULL"),
  "sqlite.normal": sqliteCommits("NORMAL"),
  "sqlite.fullBatched": sqliteFullBatched,
  "sqlite.bulk": sqliteBulk,
  "sqlite.scan": sqliteScan,
};
