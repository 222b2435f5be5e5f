import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type JsonValue, jsonCodec } from "@lora/wal-codec";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type Rec, tx, writeSegment } from "../test/build-log.js";
import { readCommitted } from "./read-committed.js";
import type { CommittedTransaction } from "./replay-types.js";

// A resume position whose restart point is the one LSN truncation removed (isLoneMissingLsn): segment 1 held
// 1..4 and is gone, the log starts at LSN 5, and the token of the commit at 3 needs the records from 4 on.

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "lora-wal-lone-lsn-"));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

type Tx = CommittedTransaction<JsonValue>;
const token = (t: Tx) => [t.commitLsn, t.restartLsn, t.events];

/**
 * What is left of 1..3 a transaction and 4 a checkpoint marker (rotation comes only before a begin, so a segment
 * often ends with one): 5..7 a transaction, 8 a marker, 9..11 a transaction.
 */
async function afterMarkerGone(): Promise<void> {
  await writeSegment(dir, 2, 5, [...tx(5, ["a"]), { kind: "checkpoint", lsn: 8, snapshotLsn: 7 }], { sealed: true });
  await writeSegment(dir, 3, 9, tx(9, ["b"]));
}

/**
 * What is left of 1..3 a transaction and 4 the begin of a low-level transaction T: 5..7 a transaction committed
 * while T is open, then T's batch at 8 and its commit at 9.
 */
async function afterOpenBeginGone(): Promise<void> {
  const rest: Rec[] = [
    ...tx(5, ["a"]),
    { kind: "mutationBatch", lsn: 8, txBeginLsn: 4, events: ["t"] },
    { kind: "txCommit", lsn: 9, txBeginLsn: 4 },
  ];
  await writeSegment(dir, 2, 5, rest);
}

async function readAll(options: { after: number; restartLsn?: number }): Promise<Tx[]> {
  const out: Tx[] = [];
  for await (const t of readCommitted(dir, { codec: jsonCodec, ...options })) out.push(t);
  return out;
}

const truncatedAt3 = { code: "WAL_TRUNCATED", details: { lsn: 3, oldestRetainedLsn: 5 } };

describe("a resume position missing only its restart point", () => {
  it("readCommitted delivers every transaction after the token when the lost LSN was a checkpoint marker", async () => {
    await afterMarkerGone();
    // Until a marker covers LSN 4, a transaction begun there may be open: tokens restart at 4, then move on.
    const expected = [
      [7, 4, ["a"]],
      [11, 12, ["b"]],
    ];
    expect((await readAll({ after: 3, restartLsn: 4 })).map(token)).toEqual(expected);
    expect((await readAll({ after: 3 })).map(token)).toEqual(expected);
    // A token of a transaction read so resumes too (it is the same one-LSN gap).
    expect((await readAll({ after: 7, restartLsn: 4 })).map(token)).toEqual([[11, 12, ["b"]]]);
    // Two missing LSNs can hold a whole (empty) transaction: refused at once, as before.
    await expect(readAll({ after: 2 })).rejects.toMatchObject({
      code: "WAL_TRUNCATED",
      details: { lsn: 2, oldestRetainedLsn: 5 },
    });
    await expect(readAll({ after: 3, restartLsn: 3 })).rejects.toMatchObject({ code: "WAL_TRUNCATED" });
  });

  it("readCommitted fails WAL_TRUNCATED at a transaction begun at the lost LSN, and its tokens never skip it", async () => {
    await afterOpenBeginGone();
    const out: Tx[] = [];
    let failure: unknown;
    try {
      for await (const t of readCommitted(dir, { codec: jsonCodec, after: 3, restartLsn: 4 })) out.push(t);
    } catch (error) {
      failure = error;
    }
    // The transaction committed at 7 is delivered; its token restarts at 4, where T may have begun.
    expect(out.map(token)).toEqual([[7, 4, ["a"]]]);
    expect(failure).toMatchObject(truncatedAt3);
    // Resuming from that token fails the same way rather than skipping T.
    await expect(readAll({ after: 7, restartLsn: 4 })).rejects.toMatchObject(truncatedAt3);
  });
});
