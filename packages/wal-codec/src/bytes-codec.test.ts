import { describe, expect, it } from "vitest";
import { ByteWriter } from "./byte-writer.js";
import { bytesCodec } from "./bytes-codec.js";

describe("bytesCodec", () => {
  it("decoded events never share memory with a Buffer input", () => {
    const w = new ByteWriter();
    bytesCodec.encodeBatch([new Uint8Array([1, 2]), new Uint8Array([3])], w);
    const input = Buffer.from(w.copy());
    const [a] = bytesCodec.decodeBatch(input);
    const single = bytesCodec.decodeEvent(input.subarray(0, 4));
    input.fill(0xee);
    expect(Array.from(a as Uint8Array)).toEqual([1, 2]);
    expect(single[0]).not.toBe(0xee);
  });

  it("rejects trailing bytes and oversized counts in a batch", () => {
    const w = new ByteWriter();
    bytesCodec.encodeBatch([new Uint8Array([1])], w);
    w.u8(9);
    expect(() => bytesCodec.decodeBatch(w.copy())).toThrow(expect.objectContaining({ code: "WAL_DECODE" }));
    const big = new ByteWriter();
    big.u64(1_000_000);
    expect(() => bytesCodec.decodeBatch(big.copy())).toThrow(/exceeds remaining WAL payload/);
  });

  it("refuses non-bytes events with WAL_ENCODE", () => {
    expect(() => bytesCodec.encodeEvent("x" as never, new ByteWriter())).toThrow(
      expect.objectContaining({ code: "WAL_ENCODE" }),
    );
  });
});
