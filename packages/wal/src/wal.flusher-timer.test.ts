/** The group flusher's timer keeps the process alive only while someone waits for durability. */

import { jsonCodec } from "@lora/wal-codec";
import { SimFS } from "@lora/wal-segment/testing";
import { describe, expect, it, vi } from "vitest";
import { Wal } from "./wal.js";

describe("the group flusher's timer", () => {
  it("group mode: the flusher's timer holds the process open only while someone awaits whenDurable", async () => {
    const spy = vi.spyOn(globalThis, "setInterval");
    try {
      const fs = new SimFS();
      fs.mkdirpSync("/w");
      const { wal } = await Wal.open("/w", {
        fs,
        codec: jsonCodec,
        syncMode: { mode: "group", intervalMs: 3_600_000 },
      });
      const timer = spy.mock.results.at(-1)?.value as NodeJS.Timeout;
      expect(timer.hasRef()).toBe(false);
      const info = await wal.commitTx(["a"]);
      const durable = wal.whenDurable(info?.commitLsn ?? 0);
      await Promise.resolve();
      await Promise.resolve();
      expect(timer.hasRef()).toBe(true);
      await wal.sync();
      await durable;
      expect(timer.hasRef()).toBe(false);
      await wal.close();
    } finally {
      spy.mockRestore();
    }
  });
});
