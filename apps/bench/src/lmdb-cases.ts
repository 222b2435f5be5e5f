/** lmdb-js: awaited puts, puts batched by the event turn, and a scan after reopening. */

import { join } from "node:path";
import type { CaseContext, CaseFn, Measure } from "./case-types.js";
import { readMeta } from "./datasets.js";
import { makePayload, PAYLOAD_BYTES } from "./payload.js";
import { closedLoop, cpuSince, now } from "./timing.js";

async function openLmdb(dir: string) {
  const { open } = await import("lmdb");
  // overlappingSync off: put() resolves after the commit is flushed (the durable point), where perCommit
  // acknowledges (docs/durability.md, 'What an acknowledgement promises').
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

export const LMDB_CASES: Readonly<Record<string, CaseFn>> = {
  "lmdb.put": lmdbPuts,
  "lmdb.bulk": lmdbBulk,
  "lmdb.scan": lmdbScan,
};
