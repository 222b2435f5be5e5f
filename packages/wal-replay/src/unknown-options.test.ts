/**
 * Every reader's entry point refuses an option name it does not know with `WAL_INVALID_OPTION`, at once and before
 * touching the file system, naming the call: a misspelled option is never ignored.
 */

import { jsonCodec } from "@lora/wal-codec";
import { SimFS } from "@lora/wal-segment/testing";
import { describe, expect, it } from "vitest";
import { followDir } from "./follow-dir.js";
import { readCommitted } from "./read-committed.js";
import { replayDir, replaySegments } from "./replay.js";
import { advanceSlot, createSlot, dropSlot, invalidateSlot, listSlots, readSlot } from "./replication-slots.js";
import { oldestRetainedLsn } from "./segment-locate.js";

function refusedBy(where: string, name: string) {
  return expect.objectContaining({
    code: "WAL_INVALID_OPTION",
    message: expect.stringContaining(`${where}: unknown option "${name}"`),
    details: expect.objectContaining({ option: name }),
  });
}

describe("an unknown option", () => {
  it("is refused at once by replayDir, replaySegments and followDir, with the option meant", () => {
    const fs = SimFS.withDir("/w");
    expect(() => replayDir("/w", { fs, codec: jsonCodec, checkpointLSN: 4 } as never)).toThrow(
      refusedBy("replayDir", "checkpointLSN"),
    );
    expect(() => replayDir("/w", { fs, codec: jsonCodec, checkpointLSN: 4 } as never)).toThrow(
      /did you mean "checkpointLsn"/,
    );
    expect(() => replaySegments(["/w/1.wal"], { fs, codec: jsonCodec, upTo: 4 } as never)).toThrow(
      refusedBy("replaySegments", "upTo"),
    );
    expect(() => followDir("/w", { fs, codec: jsonCodec, durable: true } as never)).toThrow(
      refusedBy("followDir", "durable"),
    );
  });

  it("is refused by readCommitted's first step and oldestRetainedLsn", async () => {
    const fs = SimFS.withDir("/w");
    await expect(readCommitted("/w", { fs, codec: jsonCodec, uptoLsn: 4 } as never).next()).rejects.toThrow(
      refusedBy("readCommitted", "uptoLsn"),
    );
    await expect(oldestRetainedLsn("/w", { fs, codec: jsonCodec } as never)).rejects.toThrow(
      refusedBy("oldestRetainedLsn", "codec"),
    );
  });

  it("is refused by every slot function before it reads or writes a slot", async () => {
    const fs = SimFS.withDir("/w");
    await expect(createSlot("/w", "s", { fs, confirmedLSN: 3 } as never)).rejects.toThrow(
      refusedBy("createSlot", "confirmedLSN"),
    );
    expect(fs.listSync("/w")).toEqual([]);
    await createSlot("/w", "s", { fs });
    const before = fs.readFileSync("/w/slots/s.slot");
    await expect(advanceSlot("/w", "s", 5, { fs, restart: 6 } as never)).rejects.toThrow(
      refusedBy("advanceSlot", "restart"),
    );
    await expect(readSlot("/w", "s", { fs, name: "t" } as never)).rejects.toThrow(refusedBy("readSlot", "name"));
    await expect(dropSlot("/w", "s", { fs, force: true } as never)).rejects.toThrow(refusedBy("dropSlot", "force"));
    await expect(listSlots("/w", { fs, all: true } as never)).rejects.toThrow(refusedBy("listSlots", "all"));
    await expect(
      invalidateSlot("/w", "s", { fs, oldestRetainedLsn: 1, retainedBytes: 2, why: "x" } as never),
    ).rejects.toThrow(refusedBy("invalidateSlot", "why"));
    expect(fs.readFileSync("/w/slots/s.slot")).toEqual(before);
    expect(fs.listSync("/w/slots")).toEqual(["s.slot"]);
  });
});
