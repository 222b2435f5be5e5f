/**
 * What the library guarantees under misuse, one minimal case per guarantee the misuse tier checks at scale
 * (`pnpm torture -- --tier misuse`): transaction ids that are not open, a refused commit that leaves the directory
 * unchanged, a log whose oldest transaction began in a deleted segment, a log opened with the wrong codec.
 */

import { type JsonValue, jsonCodec, Wal } from "@lora/wal";
import { RECOVERY_MODES } from "@lora/wal-replay";
import { listSegments } from "@lora/wal-segment";
import { SimFS } from "@lora/wal-segment/testing";
import { describe, expect, it } from "vitest";
import { BAD_INTS, misuseCodec } from "./misuse.js";

const DIR = "/w";

/** Every file of the directory with its bytes (dot files excluded). */
function files(fs: SimFS): Record<string, number[]> {
  const out: Record<string, number[]> = {};
  for (const name of fs.listSync(DIR).sort())
    if (!name.startsWith(".")) out[name] = Array.from(fs.readFileSync(`${DIR}/${name}`));
  return out;
}

describe("misuse is refused without changing the log", () => {
  it("append/commit/abort(-1) are WAL_TX_NOT_OPEN, also when no transaction is open", async () => {
    // Found after c55110a: the handle compared the id with #newestOpenTx first, whose "none" value was -1, so -1
    // passed the open-transaction check and the call failed later, in the record encoder, with WAL_ENCODE. Fixed in
    // 94b1197 (the sentinel is NaN).
    const fs = new SimFS();
    const { wal } = await Wal.open<JsonValue>(DIR, { fs, codec: jsonCodec });
    const b = await wal.begin();
    await wal.commit(b); // no transaction open now
    await expect(wal.commit(-1)).rejects.toMatchObject({ code: "WAL_TX_NOT_OPEN" });
    await expect(wal.append(-1, "x")).rejects.toMatchObject({ code: "WAL_TX_NOT_OPEN" });
    await expect(wal.abort(-1)).rejects.toMatchObject({ code: "WAL_TX_NOT_OPEN" });
    await wal.close();
  });

  it("a commitTx refused with WAL_ENCODE leaves the directory unchanged, also when the segment is full", async () => {
    // Found: commitTx rotated a full segment (seal + new segment + directory fsync) before it encoded the
    // transaction, so the refused call left a sealed segment and a new empty one behind. Fixed in 94b1197 (the
    // transaction is encoded on the side first).
    const fs = new SimFS();
    const { wal } = await Wal.open<JsonValue>(DIR, { fs, codec: misuseCodec, segmentTargetBytes: 100 });
    await wal.commitTx(["a".repeat(100)]); // the active segment is now over its target
    await wal.sync();
    const before = files(fs);
    const next = wal.nextLsn();
    await expect(wal.commitTx(["!bad-int:0"])).rejects.toMatchObject({ code: "WAL_ENCODE" }); // BAD_INTS[0]: u64(-1)
    expect(BAD_INTS[0]?.[0]).toBe("u64(-1)");
    expect(wal.nextLsn()).toBe(next);
    await wal.sync();
    expect(Object.keys(files(fs))).toEqual(Object.keys(before));
    expect(files(fs)).toEqual(before);
    await wal.close();
  });

  it("allowTruncatedHistory opens a log whose oldest segment holds the end of a transaction begun in a deleted one", async () => {
    // A low-level transaction spans rotations; a checkpoint after its commit deletes the segment holding its begin.
    // At a fence below the oldest segment, allowTruncatedHistory should replay what the log still holds. Found:
    // replay failed WAL_MALFORMED ("references missing tx begin"), though the log is intact (it opens at any fence
    // at or above the oldest segment's base). Fixed in 94b1197 (such a transaction is skipped).
    const fs = new SimFS();
    const { wal } = await Wal.open<JsonValue>(DIR, { fs, codec: jsonCodec, segmentTargetBytes: 120 });
    const b = await wal.begin();
    await wal.append(b, "x");
    for (let i = 0; i < 6; i++) await wal.commitTx([`c${i}`]); // rotations at the commitTx boundaries
    await wal.commit(b);
    await wal.sync();
    const safe = wal.safeCheckpointLsn();
    await wal.checkpoint(safe);
    await wal.close();
    const oldest = (await listSegments(fs, DIR))[0];
    expect(oldest?.id).toBeGreaterThan(1); // the segment holding b's begin is gone
    const atSafe = await Wal.open<JsonValue>(DIR, { fs, codec: jsonCodec, checkpointLsn: safe });
    await atSafe.wal.close();
    const opted = await Wal.open<JsonValue>(DIR, { fs, codec: jsonCodec, allowTruncatedHistory: true });
    await opted.wal.close();
  });

  it("opening a JSON log with loraCodec changes nothing in any recovery mode, and the right codec still reads it", async () => {
    // Found before WAL_CODEC_MISMATCH landed (ebce1ca, merged in 21c9856): point-in-time took the first
    // undecodable record for corruption, cut the segment there (the rest to a .broken copy) and renamed the later
    // segments, so the right codec then opened an empty log. Fixed; kept as a regression test.
    for (const recovery of RECOVERY_MODES) {
      const fs = new SimFS();
      const { wal } = await Wal.open<JsonValue>(DIR, { fs, codec: jsonCodec });
      await wal.commitTx(["a", { b: 1 }]);
      await wal.close();
      const before = files(fs);
      const wrong = await Wal.open(DIR, { fs, recovery }).then(
        async (r) => {
          await r.wal.close();
          return "opened";
        },
        (e: { code: string }) => e.code,
      );
      expect(wrong, recovery).toBe("WAL_CODEC_MISMATCH");
      expect(files(fs), recovery).toEqual(before);
      const right = await Wal.open<JsonValue>(DIR, { fs, codec: jsonCodec });
      expect(right.events, recovery).toEqual(["a", { b: 1 }]);
      await right.wal.close();
    }
  });
});
