/**
 * A resume token whose restart point equals its position (`restartLsn === after`: a snapshot taken at an LSN where a
 * transaction then began) makes the follower read from that LSN, also when it lies in an earlier segment than the one
 * after it, so the transaction begun there is read whole and delivered once it commits after the position.
 */

import { type JsonValue, jsonCodec } from "@lora/wal-codec";
import { SegmentWriter, segmentPath } from "@lora/wal-segment";
import { SimFS } from "@lora/wal-segment/testing";
import { describe, expect, it } from "vitest";
import { followDir } from "./follow-dir.js";

const DIR = "/w";

describe("followDir from a token with restartLsn === after", () => {
  it("delivers the transaction begun at that LSN first, not the one begun below it", async () => {
    const fs = new SimFS();
    fs.mkdirpSync(DIR);
    // A begins at 1 and B at 2, the last record of segment 1; A commits at 4 and B at 6 in segment 2; C is 7..9.
    const first = await SegmentWriter.create(fs, segmentPath(DIR, 1), 1);
    first.append({ kind: "txBegin", lsn: 1 }, jsonCodec);
    first.append({ kind: "txBegin", lsn: 2 }, jsonCodec);
    await first.seal();
    await first.close();
    const second = await SegmentWriter.create(fs, segmentPath(DIR, 2), 3);
    for (const record of [
      { kind: "mutation", lsn: 3, txBeginLsn: 1, event: "a" },
      { kind: "txCommit", lsn: 4, txBeginLsn: 1 },
      { kind: "mutation", lsn: 5, txBeginLsn: 2, event: "b" },
      { kind: "txCommit", lsn: 6, txBeginLsn: 2 },
      { kind: "txBegin", lsn: 7 },
      { kind: "mutation", lsn: 8, txBeginLsn: 7, event: "c" },
      { kind: "txCommit", lsn: 9, txBeginLsn: 7 },
    ] as const) {
      second.append(record, jsonCodec);
    }
    await second.flush();
    await second.close();
    const stop = new AbortController();
    const follower = followDir<JsonValue>(DIR, {
      fs,
      codec: jsonCodec,
      after: 2,
      restartLsn: 2,
      signal: stop.signal,
      pollIntervalMs: 1,
      selfSyncAfterMs: 0,
    });
    // The first delivered is B: A (begun below the restart point, committed first) is not delivered, and B is.
    const step = await follower.next();
    stop.abort();
    await follower.return();
    expect(step.done).toBe(false);
    if (step.done === true) return;
    expect([step.value.beginLsn, step.value.commitLsn, step.value.events]).toEqual([2, 6, ["b"]]);
  });
});
