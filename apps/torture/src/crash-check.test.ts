/**
 * The check of one crash image (crash-check.ts) on images made here: a clean one passes, and an image that does not
 * open, or a recovery that would give the next record an LSN already used, is a violation.
 */

import { type JsonValue, Wal } from "@lora/wal";
import { SimFS } from "@lora/wal-segment/testing";
import { describe, expect, it } from "vitest";
import { checkCrashImage } from "./crash-check.js";
import type { AttemptedTx, Expectation } from "./oracle.js";
import { openOptions, VARIANTS, WAL_DIR, type Workload } from "./workloads.js";

const w: Workload = { ops: ["commitSmall"], mode: "perCommit", variant: VARIANTS[1] as Workload["variant"] };

/** A closed log of two commitTx transactions (LSNs 1..3 and 4..6), and what the writer saw of them. */
async function image(): Promise<{ fs: SimFS; attempted: AttemptedTx[] }> {
  const fs = new SimFS();
  const { wal } = await Wal.open<JsonValue>(WAL_DIR, openOptions(w, fs, 0));
  const attempted: AttemptedTx[] = [];
  for (const id of ["t0", "t1"]) {
    const events = [`${id}:0`];
    const info = await wal.commitTx(events);
    if (info === null) throw new Error("a commitTx of one event wrote nothing");
    attempted.push({ id, beginLsn: info.beginLsn, commitLsn: info.commitLsn, events, viaCommitTx: true });
  }
  await wal.close();
  return { fs, attempted };
}

const kinds = (v: { findings: { kind: string }[] }) => v.findings.map((f) => f.kind);

describe("the check of one crash image", () => {
  it("a clean image with every acknowledged commit passes, and counts them", async () => {
    const { fs, attempted } = await image();
    expect(attempted.map((t) => [t.beginLsn, t.commitLsn])).toEqual([
      [1, 3],
      [4, 6],
    ]);
    const exp: Expectation = { attempted, fence: 0, requiredLsn: 6 };
    const v = await checkCrashImage(w, fs.clone(), "[keep all]", exp, []);
    expect(kinds(v)).toEqual([]);
    expect(v.required).toBe(2);
  });

  it("an image that does not open is a violation", async () => {
    const { fs, attempted } = await image();
    const name = fs.listSync(WAL_DIR).find((n) => !n.startsWith(".")) as string;
    fs.writeFileSync(`${WAL_DIR}/${name}`, new Uint8Array(64).fill(0x5a)); // not a segment header
    const v = await checkCrashImage(w, fs, "[drop all]", { attempted, fence: 0, requiredLsn: 0 }, []);
    expect(kinds(v)).toEqual(["unopenable"]);
  });

  it("a recovery whose next LSN is not above the fence is a violation (next-lsn-from-max-only, at the edge)", async () => {
    // The snapshot covers LSN 7, one past the last record: the clean build resumes at 8, the bug at maxLsn + 1 = 7.
    const { fs, attempted } = await image();
    const exp: Expectation = { attempted, fence: 7, requiredLsn: 6 };
    expect(kinds(await checkCrashImage(w, fs.clone(), "[keep all]", exp, []))).toEqual([]);
    expect(kinds(await checkCrashImage(w, fs.clone(), "[keep all]", exp, ["next-lsn-from-max-only"]))).toContain("lsn");
  });
});
