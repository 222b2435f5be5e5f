/**
 * Replay keeps a transaction's first batch array as its events when the codec is declared to return fresh arrays
 * (`declareFreshBatches`), and copies otherwise: a codec that hands out one shared array must not have it kept and
 * appended to.
 */

import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  declareFreshBatches,
  type JsonValue,
  jsonCodec,
  type PayloadCodec,
  returnsFreshBatches,
} from "@lora/wal-codec";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type Rec, writeSegment } from "../test/build-log.js";
import { followDir } from "./follow-dir.js";
import { replayDir } from "./replay.js";

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "lora-wal-replay-fresh-"));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Two interleaved transactions, each of several batches and single events. */
const RECORDS: Rec[] = [
  { kind: "txBegin", lsn: 1 },
  { kind: "mutationBatch", lsn: 2, txBeginLsn: 1, events: ["a1", "a2"] },
  { kind: "txBegin", lsn: 3 },
  { kind: "mutationBatch", lsn: 4, txBeginLsn: 3, events: ["b1"] },
  { kind: "mutation", lsn: 5, txBeginLsn: 1, event: "a3" },
  { kind: "mutationBatch", lsn: 6, txBeginLsn: 3, events: ["b2", "b3"] },
  { kind: "mutationBatch", lsn: 7, txBeginLsn: 1, events: ["a4"] },
  { kind: "txCommit", lsn: 8, txBeginLsn: 3 },
  { kind: "txBegin", lsn: 9 },
  { kind: "mutationBatch", lsn: 10, txBeginLsn: 9, events: ["c1"] },
  { kind: "txCommit", lsn: 11, txBeginLsn: 1 },
  { kind: "txCommit", lsn: 12, txBeginLsn: 9 },
];
const EXPECTED = [
  { beginLsn: 3, commitLsn: 8, events: ["b1", "b2", "b3"] },
  { beginLsn: 1, commitLsn: 11, events: ["a1", "a2", "a3", "a4"] },
  { beginLsn: 9, commitLsn: 12, events: ["c1"] },
];

async function replayed(codec: PayloadCodec<JsonValue>) {
  const out = [];
  for await (const tx of replayDir(dir, { codec })) out.push(tx);
  return out;
}

/** The same log through the change feed: its three transactions, then stop. */
async function followed(codec: PayloadCodec<JsonValue>) {
  const out = [];
  for await (const { beginLsn, commitLsn, events } of followDir(dir, { codec, after: 0, durability: "written" })) {
    out.push({ beginLsn, commitLsn, events });
    if (out.length === EXPECTED.length) break;
  }
  return out;
}

/** jsonCodec declared fresh, keeping every array its `decodeBatch` returns in `batches`. */
function recordingCodec(batches: JsonValue[][]): PayloadCodec<JsonValue> {
  return declareFreshBatches<PayloadCodec<JsonValue>>({
    ...jsonCodec,
    decodeBatch: (payload) => {
      const events = jsonCodec.decodeBatch(payload);
      batches.push(events);
      return events;
    },
  });
}

/** A codec (not declared) whose `decodeBatch` hands out one array, refilled on every call. */
function sharingCodec(): PayloadCodec<JsonValue> {
  const shared: JsonValue[] = [];
  return {
    ...jsonCodec,
    decodeBatch: (payload) => {
      shared.length = 0;
      shared.push(...jsonCodec.decodeBatch(payload));
      return shared;
    },
  };
}

/** Replay and the change feed assemble transactions apart; both keep fresh arrays and copy shared ones. */
const READERS = [
  ["replayDir", replayed],
  ["followDir", followed],
] as const;

describe.each(READERS)("fresh batch arrays: %s", (_, read) => {
  it("a declared codec's batches become events arrays, and later records of the transaction still land in order", async () => {
    await writeSegment(dir, 1, 1, RECORDS);
    const batches: JsonValue[][] = [];
    const txs = await read(recordingCodec(batches));
    expect(txs).toEqual(EXPECTED);
    // The first batch of each transaction is its events array (kept, then appended to); later batches are copied.
    expect(txs.map((t) => batches.indexOf(t.events))).toEqual([1, 0, 4]);
  });

  it("a codec not declared, handing out one shared array, is never kept", async () => {
    await writeSegment(dir, 1, 1, RECORDS);
    const sharing = sharingCodec();
    expect(returnsFreshBatches(sharing)).toBe(false);
    expect(await read(sharing)).toEqual(EXPECTED);
  });
});

describe("fresh batch arrays", () => {
  it("the package's own codecs are declared; a copy of one is not", () => {
    expect(returnsFreshBatches(jsonCodec)).toBe(true);
    expect(returnsFreshBatches({ ...jsonCodec })).toBe(false);
  });
});
