import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type JsonValue, jsonCodec } from "@lora/wal-codec";
import { segmentPath } from "@lora/wal-segment";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { tx, writeSegment } from "../test/build-log.js";
import { replayDir } from "./replay.js";
import type { ReplayOptions } from "./replay-types.js";

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "lora-wal-seek-headerless-"));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function headerlessOf(options: Partial<ReplayOptions<JsonValue>>) {
  const replay = replayDir(dir, { codec: jsonCodec, ...options });
  let transactions = 0;
  for await (const _ of replay) transactions++;
  return { transactions, headerless: (await replay.outcome()).headerlessLastSegment };
}

describe("a walk that seeks past the oldest segment", () => {
  it("reports a headerless newest segment as a full walk does", async () => {
    await writeSegment(dir, 1, 1, tx(1, ["a"]), { sealed: true });
    await writeSegment(dir, 2, 4, tx(4, ["b"]), { sealed: true });
    const newest = segmentPath(dir, 3);
    await writeFile(newest, new Uint8Array(0));
    const want = { path: newest, fileSize: 0 };
    expect(await headerlessOf({})).toMatchObject({ transactions: 2, headerless: want });
    expect(await headerlessOf({ after: 3 })).toMatchObject({ transactions: 1, headerless: want });
    expect(await headerlessOf({ checkpointLsn: 3, scanFrom: "fence" })).toMatchObject({
      transactions: 1,
      headerless: want,
    });
  });
});
