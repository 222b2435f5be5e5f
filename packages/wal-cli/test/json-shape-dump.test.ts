/**
 * `dump --json` prints one object per record with one key set whatever the record's kind and however its payload
 * was read: `txBeginLsn`, `snapshotLsn`, `events` and `payloadBytes` are `null` where they do not apply. They used
 * to be left out, so a script reading `txBeginLsn` met `undefined` on a begin or a checkpoint, and `events` vanished
 * when the log was read framing only.
 */

import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { type JsonValue, jsonCodec, type WalRecord } from "@lora/wal-codec";
import { createNodeFileSystem, SegmentWriter } from "@lora/wal-segment";
import { describe, expect, it } from "vitest";
import { runCli, type TempDir, useJsonWal } from "./helpers.js";

/** Every record kind: a committed transaction (mutation, batch), an aborted one, a checkpoint marker. */
const RECORDS: readonly WalRecord<JsonValue>[] = [
  { kind: "txBegin", lsn: 1 },
  { kind: "mutation", lsn: 2, txBeginLsn: 1, event: { a: 1 } },
  { kind: "mutationBatch", lsn: 3, txBeginLsn: 1, events: [{ b: 2 }, 3] },
  { kind: "txCommit", lsn: 4, txBeginLsn: 1 },
  { kind: "txBegin", lsn: 5 },
  { kind: "mutation", lsn: 6, txBeginLsn: 5, event: "gone" },
  { kind: "txAbort", lsn: 7, txBeginLsn: 5 },
  { kind: "checkpoint", lsn: 8, snapshotLsn: 4 },
];

const KEYS = ["segment", "offset", "kind", "lsn", "txBeginLsn", "snapshotLsn", "length", "events", "payloadBytes"];

describe("dump --json", () => {
  let tmp: TempDir;
  useJsonWal("lora-wal-json-shape-dump", {}, (wal) => {
    tmp = wal.tmp;
  });

  it("prints every record with the same keys, decoded or framing only, null where a key does not apply", async () => {
    const dir = join(tmp.path, "every-kind");
    await mkdir(dir);
    const w = await SegmentWriter.create(createNodeFileSystem(), join(dir, "0000000001.wal"), 1);
    for (const r of RECORDS) w.append(r, jsonCodec);
    await w.flush();
    await w.close();

    const runs: [string, string[]][] = [
      ["decoded", ["--codec", "json"]],
      ["framing only as a fallback", []],
      ["framing only", ["--codec", "framing"]],
    ];
    const lines: [string, Record<string, unknown>][] = [];
    for (const [label, args] of runs) {
      const run = await runCli(["dump", dir, ...args, "--json"]);
      expect(run.code, run.stderr).toBe(0);
      const rows = run.stdout.trimEnd().split("\n");
      expect(rows, label).toHaveLength(RECORDS.length);
      for (const row of rows) {
        const record = JSON.parse(row) as Record<string, unknown>;
        lines.push([`${label}: ${record.kind}`, record]);
      }
    }
    // Pairwise: the key list of every kind in every reading is every other's.
    for (const [a, ra] of lines) {
      for (const [b, rb] of lines) expect(Object.keys(rb), `keys of "${a}" and "${b}"`).toEqual(Object.keys(ra));
    }
    expect(Object.keys(lines[0]?.[1] ?? {})).toEqual(KEYS);

    const byLsn = (label: string, lsn: number) =>
      lines.find(([l, r]) => l.startsWith(`${label}:`) && r.lsn === lsn)?.[1];
    expect(byLsn("decoded", 1)).toMatchObject({
      txBeginLsn: null,
      snapshotLsn: null,
      events: null,
      payloadBytes: null,
    });
    expect(byLsn("decoded", 3)).toMatchObject({ txBeginLsn: 1, events: [{ b: 2 }, 3], payloadBytes: null });
    expect(byLsn("decoded", 8)).toMatchObject({ txBeginLsn: null, snapshotLsn: 4, events: null });
    expect(byLsn("framing only", 3)).toMatchObject({ txBeginLsn: 1, events: null });
    expect(typeof byLsn("framing only", 3)?.payloadBytes).toBe("number");
    expect(byLsn("framing only as a fallback", 2)).toEqual({ ...byLsn("framing only", 2) });
  });
});
