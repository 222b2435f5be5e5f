/**
 * A misspelled option is refused with `WAL_INVALID_OPTION` before anything touches the disk, instead of being ignored
 * (in plain JavaScript `{ recover: "strict" }` would have opened in the default mode and cut damage).
 */

import { type JsonValue, jsonCodec } from "@lora/wal-codec";
import { SimFS } from "@lora/wal-segment/testing";
import { describe, expect, it } from "vitest";
import { withTestingHooks } from "./testing/index.js";
import { Wal } from "./wal.js";
import type { WalOptions } from "./wal-options.js";

describe("unknown options", () => {
  it("Wal.open refuses one at once, suggesting the option meant, and creates no directory", async () => {
    const fs = SimFS.withDir("/w");
    const options = { fs, codec: jsonCodec, recover: "strict" } as WalOptions<JsonValue>;
    await expect(Wal.open("/w/log", options)).rejects.toMatchObject({
      code: "WAL_INVALID_OPTION",
      message: expect.stringMatching(
        /^Wal\.open: unknown option "recover" \(did you mean "recovery"\?\); known options: /,
      ),
      details: { option: "recover" },
    });
    expect(fs.listSync("/w")).toEqual([]);
  });

  it("Wal.open refuses an interval on a sync mode that has none, and a misspelled one on group", async () => {
    const fs = SimFS.withDir("/w");
    await expect(
      Wal.open<JsonValue>("/w", { fs, codec: jsonCodec, syncMode: { mode: "none", intervalMs: 100 } as never }),
    ).rejects.toMatchObject({
      code: "WAL_INVALID_OPTION",
      message: expect.stringContaining('syncMode { mode: "none" }: unknown option "intervalMs"'),
    });
    await expect(
      Wal.open<JsonValue>("/w", { fs, codec: jsonCodec, syncMode: { mode: "group", intervalMS: 10 } as never }),
    ).rejects.toMatchObject({
      code: "WAL_INVALID_OPTION",
      message: expect.stringContaining('unknown option "intervalMS" (did you mean "intervalMs"?)'),
    });
    expect(fs.listSync("/w")).toEqual([]);
  });

  it("Wal.open takes the testing hooks, which ride on a symbol key", async () => {
    const fs = SimFS.withDir("/w");
    const points: string[] = [];
    const options = withTestingHooks<JsonValue>({ fs, codec: jsonCodec }, { failpoint: (name) => points.push(name) });
    const { wal } = await Wal.open("/w", options);
    await wal.commitTx(["a"]);
    await wal.close();
    expect(points.length).toBeGreaterThan(0);
  });

  it("wal.follow refuses one at once", async () => {
    const fs = SimFS.withDir("/w");
    const { wal } = await Wal.open<JsonValue>("/w", { fs, codec: jsonCodec });
    expect(() => wal.follow({ afterLsn: 3 } as never)).toThrow(
      expect.objectContaining({
        code: "WAL_INVALID_OPTION",
        message: expect.stringContaining('wal.follow: unknown option "afterLsn"'),
      }),
    );
    await wal.close();
  });
});
