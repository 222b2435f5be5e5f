/** The LoraDB engine itself: its own open of a @lora/wal directory. */

import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import { join } from "node:path";
import type { CaseContext, CaseFn, Measure } from "./case-types.js";
import { readMeta } from "./datasets.js";
import { cpuSince, now } from "./timing.js";

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

export const LORADB_CASES: Readonly<Record<string, CaseFn>> = {
  "loradb.open": loradbOpen,
};
