/**
 * Only a left-out (or `undefined`) option takes its default: `null` is refused like any value of the wrong type, and
 * nothing is started (startArchiver's interval, slot, retry timings and call time-out; memoryArchive's name and
 * faults, which took any value before).
 */

import { Wal } from "@lora/wal";
import { type JsonValue, jsonCodec } from "@lora/wal-codec";
import { SimFS } from "@lora/wal-segment/testing";
import { describe, expect, it } from "vitest";
import { startArchiver } from "./archiver.js";
import { memoryArchive } from "./memory-archive.js";
import { s3Archive } from "./s3-archive.js";

describe("an option given as null", () => {
  it.each([
    ["intervalMs", { intervalMs: null }],
    ["slot", { slot: null }],
    ["callTimeoutMs", { callTimeoutMs: null }],
    ["retry.initialMs", { retry: { initialMs: null } }],
    ["retry.maxMs", { retry: { maxMs: null } }],
    ["retry.failingAfter", { retry: { failingAfter: null } }],
  ])("startArchiver refuses %s and starts nothing", async (name, options) => {
    const fs = SimFS.withDir("/w");
    const { wal } = await Wal.open<JsonValue>("/w", { codec: jsonCodec, fs });
    try {
      expect(() => startArchiver(wal, { store: memoryArchive(), ...(options as object) })).toThrow(
        expect.objectContaining({ code: "WAL_INVALID_OPTION", message: expect.stringContaining(name) }),
      );
      expect(fs.listSync("/w").includes("slots")).toBe(false);
    } finally {
      await wal.close();
    }
  });

  it.each(["name", "faults"])("memoryArchive refuses %s, and a name or faults of the wrong type", (name) => {
    for (const bad of [null, 5, ""]) {
      if (name === "faults" && bad === "") continue;
      expect(() => memoryArchive({ [name]: bad })).toThrow(
        expect.objectContaining({ code: "WAL_INVALID_OPTION", message: expect.stringContaining(name) }),
      );
    }
    expect(memoryArchive({ name: "mine", faults: [] }).name).toBe("mine");
  });

  it("s3Archive refuses prefix: null (it was taken as no prefix)", () => {
    const client = { send: () => Promise.resolve({}) } as unknown as Parameters<typeof s3Archive>[0]["client"];
    expect(() => s3Archive({ client, bucket: "b", prefix: null as unknown as string })).toThrow(
      expect.objectContaining({ code: "WAL_INVALID_OPTION", message: expect.stringContaining("prefix") }),
    );
  });
});
