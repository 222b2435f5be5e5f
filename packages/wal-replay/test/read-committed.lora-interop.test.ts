/**
 * The bounded reader against directories the real engine (`@loradb/lora-node`) wrote: for resume points and upper
 * bounds across segments, `readCommitted` returns exactly replay's transactions within the bounds.
 */

import { join } from "node:path";
import { LORA_MULTI_SEGMENT_BYTES, makeTempDir, writeLoraFixture } from "@lora/test-utils";
import { loraCodec, type MutationEvent } from "@lora/wal-codec/lora";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ReplayedTransaction, readCommitted, replayDir } from "../src/index.js";

let tmp: Awaited<ReturnType<typeof makeTempDir>>;
let walDir: string;
const all: ReplayedTransaction<MutationEvent>[] = [];

beforeAll(async () => {
  tmp = await makeTempDir("read-committed-lora");
  walDir = join(tmp.path, "wal");
  await writeLoraFixture({ walDir, bulkBytes: LORA_MULTI_SEGMENT_BYTES });
  for await (const t of replayDir(walDir, { codec: loraCodec })) all.push(t);
});
afterAll(async () => {
  await tmp.cleanup();
});

const lsns = (txs: readonly ReplayedTransaction<MutationEvent>[]) => txs.map((t) => [t.beginLsn, t.commitLsn]);

describe("readCommitted on LoraDB-written directories", () => {
  it("equals replay within every (after, upto) pair taken from the log's own commit LSNs", async () => {
    expect(all.length).toBeGreaterThan(10);
    const commits = all.map((t) => t.commitLsn);
    const picks = [0, 1, Math.floor(commits.length / 2), commits.length - 2, commits.length - 1];
    for (const i of picks) {
      const after = i === 0 ? 0 : (commits[i - 1] as number);
      for (const upto of [commits[i] as number, commits[commits.length - 1] as number, after + 1]) {
        const got: ReplayedTransaction<MutationEvent>[] = [];
        for await (const t of readCommitted(walDir, { codec: loraCodec, after, upto })) got.push(t);
        const want = all.filter((t) => t.beginLsn > after && t.commitLsn <= upto);
        expect(lsns(got), `after ${after} upto ${upto}`).toEqual(lsns(want));
        expect(got.map((t) => t.events)).toEqual(want.map((t) => t.events));
      }
    }
  });
});
