/**
 * Options whose `?? default` the lint rule against it (eslint.config.js) found taking `null` as the default: each
 * is now refused, like any value of the wrong type (SegmentWriter's maxUnsyncedBytes, SimFS's crash image sampling
 * options and writeFileSync's durable, which took null as "durable" and a null seed as the default seed).
 */

import { describe, expect, it } from "vitest";
import { SegmentWriter } from "./segment-writer.js";
import { SimFS } from "./testing/sim-fs.js";

describe("an option given as null", () => {
  it("SegmentWriter.create refuses maxUnsyncedBytes: null before creating the file", async () => {
    const fs = SimFS.withDir("/w");
    await expect(
      SegmentWriter.create(fs, "/w/0000000001.wal", 1, { maxUnsyncedBytes: null as unknown as number }),
    ).rejects.toMatchObject({ code: "WAL_INVALID_OPTION", message: expect.stringContaining("maxUnsyncedBytes") });
    expect(fs.listSync("/w")).toEqual([]);
  });

  it.each(["maxImages", "seed", "tornSamples", "dirSamples", "reorderSamples"])("crashImages refuses %s", (name) => {
    const fs = SimFS.withDir("/w");
    expect(() => [...fs.crashImages({ [name]: null })]).toThrow(
      expect.objectContaining({ code: "WAL_INVALID_ARGUMENT", message: expect.stringContaining(name) }),
    );
  });

  it("writeFileSync refuses durable: null and writes nothing", () => {
    const fs = SimFS.withDir("/w");
    expect(() => fs.writeFileSync("/w/x", new Uint8Array(1), { durable: null as unknown as boolean })).toThrow(
      expect.objectContaining({ code: "WAL_INVALID_ARGUMENT", message: expect.stringContaining("durable") }),
    );
    expect(fs.listSync("/w")).toEqual([]);
  });
});
