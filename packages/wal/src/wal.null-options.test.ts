/**
 * Only a left-out (or `undefined`) option takes its default: `null` is refused like any value of the wrong type, with
 * nothing created. Settings read back from JSON hold `null` where they held `NaN` or nothing; `checkpointLsn: null`
 * taken as the default opened at fence 0 and replayed the whole log onto the caller's snapshot.
 */

import { type JsonValue, jsonCodec } from "@lora/wal-codec";
import { SimFS } from "@lora/wal-segment/testing";
import { describe, expect, it } from "vitest";
import { Wal } from "./wal.js";
import { WAL_OPTION_NAMES } from "./wal-options.js";

describe("an option given as null", () => {
  it.each(WAL_OPTION_NAMES)("Wal.open refuses %s with WAL_INVALID_OPTION and creates no directory", async (name) => {
    const fs = SimFS.withDir("/p");
    const options = { codec: jsonCodec, fs, [name]: null };
    await expect(Wal.open("/p/w", options)).rejects.toMatchObject({
      code: "WAL_INVALID_OPTION",
      message: expect.stringMatching(/null/),
    });
    expect(fs.listSync("/p")).toEqual([]);
  });

  it("a checkpoint fence read back as null replays nothing onto the snapshot: it is refused", async () => {
    const fs = SimFS.withDir("/w");
    const { wal } = await Wal.open<JsonValue>("/w", { codec: jsonCodec, fs });
    await wal.commitTx([{ a: 1 }]);
    const fence = (await wal.checkpoint(wal.fsyncedLsn())).snapshotLsn;
    await wal.close();
    const saved = JSON.parse(JSON.stringify({ fence: Number.NaN }));
    expect(saved.fence).toBeNull();
    await expect(Wal.open("/w", { codec: jsonCodec, fs, checkpointLsn: saved.fence })).rejects.toMatchObject({
      code: "WAL_INVALID_OPTION",
    });
    const { wal: reopened, events } = await Wal.open<JsonValue>("/w", { codec: jsonCodec, fs, checkpointLsn: fence });
    await reopened.close();
    expect(events).toEqual([]);
  });

  it.each(["after", "restartLsn", "durability", "signal"])("wal.follow refuses %s", async (name) => {
    const fs = SimFS.withDir("/w");
    const { wal } = await Wal.open<JsonValue>("/w", { codec: jsonCodec, fs });
    try {
      expect(() => wal.follow({ [name]: null })).toThrow(
        expect.objectContaining({ code: expect.stringMatching(/^WAL_INVALID_(OPTION|ARGUMENT)$/) }),
      );
    } finally {
      await wal.close();
    }
  });
});
