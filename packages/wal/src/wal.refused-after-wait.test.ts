/**
 * A call that has to wait for a rotation first is still refused with nothing changed: a transaction that cannot be
 * encoded is refused before the rotation it would have waited for (no segment sealed or created), and a checkpoint
 * marker is checked again once the wait is over, against what was appended meanwhile.
 */

import { type JsonValue, jsonCodec } from "@lora/wal-codec";
import { RECOVERY_MODES } from "@lora/wal-replay";
import { SimFS } from "@lora/wal-segment/testing";
import { describe, expect, it } from "vitest";
import { Wal } from "./wal.js";

const DIR = "/w";

async function open(fs: SimFS, recovery?: (typeof RECOVERY_MODES)[number]) {
  return await Wal.open<JsonValue>(DIR, {
    fs,
    codec: jsonCodec,
    segmentTargetBytes: 64, // full after one transaction: the next one rotates first
    ...(recovery === undefined ? {} : { recovery }),
  });
}

describe("a call that waits for a rotation", () => {
  it("commitTx of an event the codec cannot encode is refused before rotating: no segment sealed or created", async () => {
    const fs = new SimFS();
    const { wal } = await open(fs);
    await wal.commitTx(["a"]);
    const segments = fs.listSync(DIR).filter((name) => name.endsWith(".wal"));
    const active = wal.activeSegmentId();
    const next = wal.nextLsn();
    await expect(wal.commitTx([10n as unknown as JsonValue])).rejects.toMatchObject({ code: "WAL_ENCODE" });
    expect(wal.activeSegmentId()).toBe(active);
    expect(wal.nextLsn()).toBe(next);
    expect(fs.listSync(DIR).filter((name) => name.endsWith(".wal"))).toEqual(segments);
    await wal.commitTx(["b"]);
    await wal.close();
    const { wal: again, events } = await open(fs);
    expect(events).toEqual(["a", "b"]);
    await again.close();
  });

  it("a checkpoint marker that a marker appended during the wait makes a regression is refused after it", async () => {
    const fs = new SimFS();
    const { wal } = await open(fs);
    for (const e of ["a", "b", "c"]) await wal.commitTx([e]); // LSNs 1-3, 4-6, 7-9
    const commit = wal.commitTx(["d"]); // rotates first: the markers below wait for it
    const higher = wal.checkpointMarker(6);
    const lower = wal.checkpointMarker(3); // accepted when called: no marker is written yet
    await expect(higher).resolves.toBeTypeOf("number");
    await expect(lower).rejects.toMatchObject({ code: "WAL_BAD_CHECKPOINT" });
    await commit;
    await wal.close();
    for (const recovery of RECOVERY_MODES) {
      const { wal: again, events } = await open(fs, recovery);
      expect(events, recovery).toEqual(["a", "b", "c", "d"]);
      await again.close();
    }
  });
});
