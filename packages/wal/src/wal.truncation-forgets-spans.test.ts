/**
 * A handle that truncates without ever writing a checkpoint marker holds the transaction spans of the retained log
 * only. The spans (which LSNs lie inside a transaction, for the fence checks) were forgotten only when a marker
 * raised the floor, so a store truncating with `truncateUpTo` alone kept 8 KiB of bits, and an 8 KiB jump array,
 * per 65,536 LSNs for the life of the handle: hundreds of MB an hour at full commit speed.
 */

import { type JsonValue, jsonCodec } from "@lora/wal-codec";
import { TransactionSpans } from "@lora/wal-replay";
import { SimFS } from "@lora/wal-segment/testing";
import { describe, expect, it, vi } from "vitest";
import { Wal } from "./wal.js";

/** 3 LSNs each: 196,608 LSNs, three chunks of the span map's 65,536. */
const N = 65_536;
/** Commits between truncations: well under a chunk of LSNs stays in the log between them. */
const TRUNCATE_EVERY = 2_000;
/** Bytes a chunk of bits (or its jump array) holds. */
const CHUNK_BYTES = 8 * 1024;

/** The bytes the handle's span map holds after `commits` commitTx calls with a truncation every `TRUNCATE_EVERY`. */
async function spanBytesAfter(commits: number): Promise<number> {
  const fs = new SimFS();
  const { wal } = await Wal.open<JsonValue>("/w", {
    fs,
    codec: jsonCodec,
    syncMode: "none",
    segmentTargetBytes: 64 * 1024,
  });
  let removed = 0;
  for (let i = 1; i <= commits; i++) {
    await wal.commitTx([i]);
    if (i % TRUNCATE_EVERY === 0) removed += await wal.truncateUpTo(wal.safeCheckpointLsn());
  }
  expect(removed).toBeGreaterThan(0);
  // The commit path marks each transaction in the handle's map: one more commit shows which map that is.
  const mark = vi.spyOn(TransactionSpans.prototype, "markInside");
  try {
    await wal.commitTx(["last"]);
    expect(mark).toHaveBeenCalledTimes(1);
    return (mark.mock.contexts[0] as TransactionSpans).byteLength;
  } finally {
    mark.mockRestore();
    await wal.close();
  }
}

describe("truncation without checkpoint markers", () => {
  it(`keeps the span map of the retained log only: at most two chunks after ${N} and after ${4 * N} commits`, async () => {
    const atN = await spanBytesAfter(N);
    const at4N = await spanBytesAfter(4 * N);
    // Two chunks of bits and their jump arrays: the retained log may straddle a chunk edge.
    expect.soft(atN).toBeLessThanOrEqual(4 * CHUNK_BYTES);
    expect.soft(at4N).toBeLessThanOrEqual(4 * CHUNK_BYTES);
  });
});
