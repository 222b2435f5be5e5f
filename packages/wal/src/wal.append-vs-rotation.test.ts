/**
 * Regression (found by apps/torture): an append whose readiness check ran before a rotation started, but whose
 * bytes were appended after the seal's final write, went into the sealed writer's buffer and was dropped, while
 * the caller was acknowledged (in perCommit, as durable) and the next segment's base skipped its LSNs.
 */

import { type JsonValue, jsonCodec } from "@lora/wal-codec";
import { SimFS } from "@lora/wal-segment/testing";
import { describe, expect, it } from "vitest";
import { Wal } from "./wal.js";

describe("an append racing a rotation", () => {
  for (const syncMode of ["perCommit", "none", { mode: "group", intervalMs: 5 }] as const) {
    it(`is never dropped (${typeof syncMode === "string" ? syncMode : syncMode.mode})`, async () => {
      const fs = new SimFS();
      const { wal } = await Wal.open<JsonValue>("/w", { fs, codec: jsonCodec, syncMode, segmentTargetBytes: 200 });
      const tx = await wal.begin();
      let rotating: Promise<number> | undefined;
      // The append fills the segment; a microtask later `begin` rotates; the commitTx queued behind them appends.
      const filling = wal.append(tx, "x".repeat(300));
      queueMicrotask(() => {
        rotating = wal.begin();
      });
      const racing = wal.commitTx(["y"]);
      await filling;
      const acked = await racing;
      const second = await (rotating as Promise<number>);
      await wal.commit(second);
      await wal.commit(tx);
      await wal.close();

      const reopened = await Wal.open<JsonValue>("/w", { fs, codec: jsonCodec, syncMode });
      await reopened.wal.close();
      expect(acked).not.toBeNull();
      expect(reopened.events).toEqual(["y", "x".repeat(300)]);
      expect(reopened.replay?.maxLsn).toBe(reopened.wal.nextLsn() - 1);
    });
  }
});
