/** `dump --tx <lsn>`: the transaction begun there, and exit 3 when no transaction begins at that LSN. */

import { describe, expect, it } from "vitest";
import { dumpRecords } from "../src/index.js";
import { runCli, useJsonWal } from "./helpers.js";

describe("dump --tx", () => {
  let dir: string;
  // Transaction k is begin 3k+1, batch 3k+2, commit 3k+3; small segments so the walk has to skip some.
  useJsonWal("lora-wal-cli-tx", { transactions: 12, segmentTargetBytes: 256 }, (wal) => {
    dir = wal.dir;
  });

  it("a begin LSN: that transaction's records, exit 0, also with --from-lsn past its begin", async () => {
    const result = await runCli(["dump", dir, "--codec", "json", "--tx", "22", "--json"]);
    expect(result.code).toBe(0);
    const lines = result.stdout
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as { lsn: number; kind: string });
    expect(lines.map((l) => [l.lsn, l.kind])).toEqual([
      [22, "txBegin"],
      [23, "mutationBatch"],
      [24, "txCommit"],
    ]);
    const later = await runCli(["dump", dir, "--codec", "json", "--tx", "22", "--from-lsn", "23", "--json"]);
    expect(later.code).toBe(0);
    expect(later.stdout.trim().split("\n")).toHaveLength(2);
  });

  it("an LSN of another kind of record: says which kind, exit 3", async () => {
    for (const [lsn, kind] of [
      ["23", "mutationBatch"],
      ["24", "txCommit"],
    ] as const) {
      const result = await runCli(["dump", dir, "--codec", "json", "--tx", lsn]);
      expect(result.code, lsn).toBe(3);
      expect(result.stderr, lsn).toContain(`--tx ${lsn}: LSN ${lsn} is a ${kind} record, not a transaction's begin`);
    }
  });

  it("an LSN no record has: says so, exit 3; the function throws NotABeginLsnError", async () => {
    const result = await runCli(["dump", dir, "--codec", "json", "--tx", "1000"]);
    expect(result.code).toBe(3);
    expect(result.stderr).toContain("--tx 1000: no record has LSN 1000");
    const walk = async () => {
      for await (const _ of dumpRecords(dir, { codec: "json", tx: 1000 })) {
        // draining the walk is the point
      }
    };
    await expect(walk()).rejects.toMatchObject({ name: "NotABeginLsnError", lsn: 1000, found: null });
  });
});
