/**
 * `confirm(commitLsn)` of an earlier delivered transaction stores its exact restart point when the follower still
 * remembers its token, and keeps the slot's restart point when it no longer does (more than `CONFIRMABLE_TOKENS`
 * deliveries ago): either way a transaction still open at that commit is delivered again on resume, not skipped.
 */

import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type JsonValue, jsonCodec } from "@lora/wal-codec";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type Rec, tx, writeSegment } from "../test/build-log.js";
import { CONFIRMABLE_TOKENS, followDir } from "./follow-dir.js";
import { createSlot, readSlot } from "./replication-slots.js";

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "follow-confirm-earlier-"));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("confirm of an earlier delivered transaction", () => {
  it("whose token is forgotten keeps the slot's restart point below a transaction still open there", async () => {
    // T begins at 1 and stays open while B (2..4) and CONFIRMABLE_TOKENS more transactions commit; T commits last.
    const records: Rec[] = [{ kind: "txBegin", lsn: 1 }];
    let lsn = 2;
    for (let i = 0; i <= CONFIRMABLE_TOKENS; i++, lsn += 3) records.push(...tx(lsn, [{ i }]));
    records.push(
      { kind: "mutation", lsn, txBeginLsn: 1, event: "t" },
      { kind: "txCommit", lsn: lsn + 1, txBeginLsn: 1 },
    );
    const tCommit = lsn + 1;
    await writeSegment(dir, 1, 1, records, { sealed: true });
    await createSlot(dir, "s");

    const stop = new AbortController();
    const follower = followDir<JsonValue>(dir, { codec: jsonCodec, slot: "s", watch: false, signal: stop.signal });
    let delivered = 0;
    for await (const t of follower) {
      expect(t.restartLsn).toBe(1); // T is open at every one of them
      if (++delivered === CONFIRMABLE_TOKENS + 1) stop.abort();
    }
    expect(delivered).toBe(CONFIRMABLE_TOKENS + 1);
    await follower.confirm(4); // B's commit: delivered, its token long forgotten
    expect(await readSlot(dir, "s")).toMatchObject({ confirmedLsn: 4, restartLsn: 1 });

    const resume = new AbortController();
    const again = followDir<JsonValue>(dir, { codec: jsonCodec, slot: "s", watch: false, signal: resume.signal });
    const last: [number, number][] = [];
    for await (const t of again) {
      last.push([t.beginLsn, t.commitLsn]);
      if (t.commitLsn === tCommit) resume.abort();
    }
    expect(last.at(-1)).toEqual([1, tCommit]);
  });

  it("stores a remembered earlier token's restart point exactly", async () => {
    // B (2..4) and C (5..7) commit while T, begun at 1, is open; T commits at 9, then D (10..12).
    const records: Rec[] = [
      { kind: "txBegin", lsn: 1 },
      ...tx(2, [{ i: 0 }]),
      ...tx(5, [{ i: 1 }]),
      { kind: "mutation", lsn: 8, txBeginLsn: 1, event: "t" },
      { kind: "txCommit", lsn: 9, txBeginLsn: 1 },
      ...tx(10, [{ i: 2 }]),
    ];
    await writeSegment(dir, 1, 1, records, { sealed: true });
    await createSlot(dir, "s");
    const stop = new AbortController();
    const follower = followDir<JsonValue>(dir, { codec: jsonCodec, slot: "s", watch: false, signal: stop.signal });
    const tokens: [number, number][] = [];
    for await (const t of follower) {
      tokens.push([t.commitLsn, t.restartLsn]);
      if (tokens.length === 3) stop.abort();
    }
    expect(tokens).toEqual([
      [4, 1],
      [7, 1],
      [9, 10],
    ]);
    await follower.confirm(7); // remembered, not the last delivered: restart 1, T was open
    expect(await readSlot(dir, "s")).toMatchObject({ confirmedLsn: 7, restartLsn: 1 });
  });

  it("stores a remembered earlier token's restart point when it lies above the slot's", async () => {
    // Nothing interleaves: A (1..3), B (4..6) and C (7..9) restart at 4, 7 and 10; the slot starts at restart 1.
    await writeSegment(dir, 1, 1, [...tx(1, [{ i: 0 }]), ...tx(4, [{ i: 1 }]), ...tx(7, [{ i: 2 }])], {
      sealed: true,
    });
    await createSlot(dir, "s");
    const stop = new AbortController();
    const follower = followDir<JsonValue>(dir, { codec: jsonCodec, slot: "s", watch: false, signal: stop.signal });
    let delivered = 0;
    for await (const t of follower) if (++delivered === 3 || t.commitLsn === 9) stop.abort();
    expect(delivered).toBe(3);
    await follower.confirm(6); // B: remembered, not the last delivered
    expect(await readSlot(dir, "s")).toMatchObject({ confirmedLsn: 6, restartLsn: 7 });
  });
});
