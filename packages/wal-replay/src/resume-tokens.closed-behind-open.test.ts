/**
 * Resume tokens when many interleaved transactions close behind long-open ones: the begins that closed are dropped
 * from the lowest-open-begin list once they outnumber the open ones (compaction), and every token still restarts at
 * the lowest begin open at its commit, also after the lowest one commits and the next open one takes its place.
 */

import { bytesCodec, type WalRecord } from "@lora/wal-codec";
import { SegmentWriter, segmentPath } from "@lora/wal-segment";
import { SimFS } from "@lora/wal-segment/testing";
import { describe, expect, it } from "vitest";
import { followDir } from "./follow-dir.js";
import { readCommitted } from "./read-committed.js";

const DIR = "/w";
/** Interleaved pairs: each adds one begin to the list and closes it, so compaction (past 64 closed) runs often. */
const PAIRS = 300;

/**
 * O begun first, P begun at pair 100, both open while pairs of interleaved transactions (A begun, B begun, A
 * committed, B committed) commit; O commits at pair 200, P at the end. The records, and the token a correct reader
 * gives each commit: the lowest begin open at that commit (the committing one aside), else the commit LSN + 1.
 */
function interleavedLog(): { records: WalRecord<Uint8Array>[]; tokens: [commitLsn: number, restartLsn: number][] } {
  const records: WalRecord<Uint8Array>[] = [];
  const tokens: [number, number][] = [];
  const open = new Set<number>();
  let lsn = 1;
  const begin = (): number => {
    const at = lsn++;
    records.push({ kind: "txBegin", lsn: at });
    records.push({ kind: "mutation", lsn: lsn++, txBeginLsn: at, event: Uint8Array.of(at & 0xff) });
    open.add(at);
    return at;
  };
  const commit = (txBegin: number): void => {
    const at = lsn++;
    records.push({ kind: "txCommit", lsn: at, txBeginLsn: txBegin });
    open.delete(txBegin);
    tokens.push([at, Math.min(at + 1, ...open)]);
  };
  const o = begin();
  let p = 0;
  for (let i = 0; i < PAIRS; i++) {
    if (i === 100) p = begin();
    if (i === 200) commit(o);
    const a = begin();
    const b = begin();
    commit(a);
    commit(b);
  }
  commit(p);
  return { records, tokens };
}

async function written(records: WalRecord<Uint8Array>[]): Promise<SimFS> {
  const fs = SimFS.withDir(DIR);
  const writer = await SegmentWriter.create(fs, segmentPath(DIR, 1), 1);
  for (const r of records) writer.append(r, bytesCodec);
  await writer.flush();
  await writer.close();
  return fs;
}

describe("resume tokens with many transactions closed behind open ones", () => {
  it("readCommitted gives every commit the lowest begin open at it", async () => {
    const { records, tokens } = interleavedLog();
    const fs = await written(records);
    const got: [number, number][] = [];
    for await (const tx of readCommitted(DIR, { fs, codec: bytesCodec })) got.push([tx.commitLsn, tx.restartLsn]);
    expect(got).toEqual(tokens);
    expect(got[0]).toEqual([tokens[0]?.[0], 1]);
  });

  it("followDir gives the same tokens", async () => {
    const { records, tokens } = interleavedLog();
    const fs = await written(records);
    const stop = new AbortController();
    const got: [number, number][] = [];
    const follower = followDir(DIR, {
      fs,
      codec: bytesCodec,
      durability: "written",
      watch: false,
      pollIntervalMs: 1,
      signal: stop.signal,
    });
    for await (const tx of follower) {
      got.push([tx.commitLsn, tx.restartLsn]);
      if (got.length === tokens.length) break;
    }
    stop.abort();
    expect(got).toEqual(tokens);
  });
});
