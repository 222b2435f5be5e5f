import { fc, test } from "@fast-check/vitest";
import { crc32 } from "@lora/wal-codec";
import { describe, expect, it } from "vitest";
import { crc32InSlices } from "./crc32-in-slices.js";

describe("crc32InSlices", () => {
  test.prop([fc.uint8Array({ maxLength: 5000 }), fc.integer({ min: 1, max: 700 })])(
    "equals the one-call CRC-32 for any bytes and slice size",
    async (bytes, slice) => {
      expect(await crc32InSlices(bytes, slice)).toBe(crc32(bytes) >>> 0);
    },
  );

  test.prop([fc.uint8Array({ maxLength: 300 }), fc.uint8Array({ maxLength: 3000 }), fc.integer({ min: 1, max: 700 })])(
    "continues the CRC-32 of the bytes before when given it",
    async (before, bytes, slice) => {
      const joined = new Uint8Array([...before, ...bytes]);
      expect(await crc32InSlices(bytes, slice, crc32(before))).toBe(crc32(joined) >>> 0);
    },
  );

  it("lets the event loop run between slices", async () => {
    const bytes = new Uint8Array(4 << 20).fill(0xa5);
    const immediates: Promise<void>[] = [];
    for (let i = 0; i < 3; i++) immediates.push(new Promise((r) => setImmediate(r)));
    let ranBetween = false;
    void Promise.all(immediates).then(() => {
      ranBetween = true;
    });
    const crc = await crc32InSlices(bytes, 1 << 20);
    expect(crc).toBe(crc32(bytes) >>> 0);
    // Immediates queued before the call ran before it finished: it yielded to the event loop.
    expect(ranBetween).toBe(true);
  });
});
