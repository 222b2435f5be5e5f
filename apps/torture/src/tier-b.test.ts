/** Tier B's check of the log a killed child left (verify), on logs written here with the real file system. */

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type JsonValue, jsonCodec, Wal } from "@lora/wal";
import { afterEach, describe, expect, it } from "vitest";
import type { AckLine } from "./ack-log.js";
import { TierResult, type ViolationKind } from "./result.js";
import { verify } from "./tier-b.js";

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** A log holding one commitTx per event list, as a child would have left it. */
async function logOf(...txs: string[][]): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), "tier-b-verify-"));
  dirs.push(dir);
  const wal = join(dir, "wal");
  const { wal: w } = await Wal.open<JsonValue>(wal, { codec: jsonCodec });
  for (const events of txs) await w.commitTx(events);
  await w.close();
  return wal;
}

async function kinds(wal: string, lines: AckLine[]): Promise<ViolationKind[]> {
  const found: ViolationKind[] = [];
  await verify({ wal }, lines, new TierResult("B"), (k) => void found.push(k));
  return found;
}

describe("tier B's check of a killed child's log", () => {
  it("the child's committed transactions, acknowledged or in flight, pass", async () => {
    const wal = await logOf(["t0:0"], ["t1:0", "t1:1"]);
    const lines: AckLine[] = [
      { t: "intent", id: "t0", n: 1 },
      { t: "acked", id: "t0", b: 1, c: 3, durable: true },
      { t: "intent", id: "t1", n: 2 },
    ];
    expect(await kinds(wal, lines)).toEqual([]);
  });

  it("an acknowledged commit that is missing is lost", async () => {
    const wal = await logOf(["t0:0"]);
    const lines: AckLine[] = [
      { t: "intent", id: "t0", n: 1 },
      { t: "acked", id: "t0", b: 1, c: 3, durable: true },
      { t: "intent", id: "t1", n: 1 },
      { t: "acked", id: "t1", b: 4, c: 6, durable: true },
    ];
    expect(await kinds(wal, lines)).toEqual(["lost"]);
  });

  it("a transaction that is not whole, or was never announced, is a phantom", async () => {
    const wal = await logOf(["t0:0"], ["t1:1", "t1:0"], ["t9:0"]);
    const lines: AckLine[] = [
      { t: "intent", id: "t0", n: 1 },
      { t: "intent", id: "t1", n: 2 },
    ];
    expect(await kinds(wal, lines)).toEqual(["phantom", "phantom"]);
  });

  it("a transaction recovered twice is a phantom, also when its commit was never acknowledged", async () => {
    // The child announced t1 and was killed before the acknowledgement: recovery may keep it or not, but once.
    const wal = await logOf(["t0:0"], ["t1:0"], ["t1:0"]);
    const lines: AckLine[] = [
      { t: "intent", id: "t0", n: 1 },
      { t: "acked", id: "t0", b: 1, c: 3, durable: true },
      { t: "intent", id: "t1", n: 1 },
    ];
    expect(await kinds(wal, lines)).toEqual(["phantom"]);
  });
});
