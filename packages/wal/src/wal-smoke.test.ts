import { makeTempDir } from "@lora/test-utils";
import { jsonCodec } from "@lora/wal-codec";
import { expect, it } from "vitest";
import { Wal } from "./wal.js";

it("smoke: commitTx, reopen, replay", async () => {
  const tmp = await makeTempDir();
  try {
    const { wal, events } = await Wal.open(tmp.path, { codec: jsonCodec });
    expect(events).toEqual([]);
    const info = await wal.commitTx(["a", "b"]);
    expect(info).toEqual({ beginLsn: 1, commitLsn: 3 });
    expect(wal.durableLsn()).toBe(3);
    await Promise.all(Array.from({ length: 50 }, (_, i) => wal.commitTx([i])));
    expect(wal.ioStats().syncs).toBeLessThan(20);
    await wal.close();
    const again = await Wal.open(tmp.path, { codec: jsonCodec });
    expect(again.events.length).toBe(52);
    expect(again.wal.nextLsn()).toBe(154);
    await again.wal.close();
  } finally {
    await tmp.cleanup();
  }
});
