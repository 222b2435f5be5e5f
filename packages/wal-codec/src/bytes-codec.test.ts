import { fc, test } from "@fast-check/vitest";
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

  test.prop([fc.array(fc.uint8Array({ maxLength: 1500 }), { maxLength: 5 })])(
    "a batch of any count round-trips (one event takes its own path)",
    (events) => {
      const w = new ByteWriter();
      bytesCodec.encodeBatch(events, w);
      expect(bytesCodec.decodeBatch(w.copy())).toEqual(events);
    },
  );

  it("names the trailing bytes the same way for one event and for several", () => {
    for (const events of [[new Uint8Array([1])], [new Uint8Array([1]), new Uint8Array([2, 3])]]) {
      const w = new ByteWriter();
      bytesCodec.encodeBatch(events, w);
      w.u8(9);
      w.u8(9);
      expect(() => bytesCodec.decodeBatch(w.copy())).toThrow("trailing bytes in bytes batch payload: 2");
    }
  });

  it("refuses non-bytes events with WAL_ENCODE", () => {
    expect(() => bytesCodec.encodeEvent("x" as never, new ByteWriter())).toThrow(
      expect.objectContaining({ code: "WAL_ENCODE" }),
    );
  });
});

describe("bytesCodec slabs", () => {
  const event = (n: number, length = 100) => Uint8Array.from({ length }, (_, i) => (n * 7 + i) & 0xff);
  const batchOf = (events: Uint8Array[]) => {
    const w = new ByteWriter();
    bytesCodec.encodeBatch(events, w);
    return w.copy();
  };

  it("later decodes never change earlier events, across many slabs", () => {
    const kept: Uint8Array[] = [];
    // 2000 × 100 bytes is ~25 slabs; the input is reused and scribbled over between decodes, like a read buffer.
    const input = new Uint8Array(16 + 100);
    for (let n = 0; n < 2000; n++) {
      input.set(batchOf([event(n)]));
      kept.push(...bytesCodec.decodeBatch(input));
      input.fill(0xee);
    }
    for (let n = 0; n < 2000; n++) expect(kept[n]).toEqual(event(n));
    expect(new Set(kept.map((e) => e.buffer)).size).toBeGreaterThan(20);
  });

  /**
   * Decode 1 KiB events until one opens a new slab, which then has 7 KiB free whatever earlier decodes left in the
   * slab (a property test before this one leaves a random amount): a slab holds eight such events.
   */
  const startFreshSlab = () => {
    for (let i = 0; i < 9; i++) if (bytesCodec.decodeEvent(event(0, 1024)).byteOffset === 0) return;
    throw new Error("nine 1 KiB events opened no new slab");
  };

  it("small events share a slab at 8-byte aligned offsets; writing one leaves its neighbours alone", () => {
    startFreshSlab();
    const [a, b, c] = bytesCodec.decodeBatch(batchOf([event(1, 3), event(2, 100), event(3, 5)])) as Uint8Array[];
    expect(a?.buffer).toBe(b?.buffer);
    expect(b?.buffer).toBe(c?.buffer);
    for (const e of [a, b, c]) expect((e as Uint8Array).byteOffset % 8).toBe(0);
    (b as Uint8Array).fill(0);
    expect(a).toEqual(event(1, 3));
    expect(c).toEqual(event(3, 5));
  });

  it("an event over 1 KiB gets an array of its own", () => {
    const [big] = bytesCodec.decodeBatch(batchOf([event(9, 1025)]));
    expect(big?.byteOffset).toBe(0);
    expect(big?.buffer.byteLength).toBe(1025);
    expect(big).toEqual(event(9, 1025));
  });

  it("a transferred (detached) slab is replaced, not written through", () => {
    const first = bytesCodec.decodeEvent(event(4, 40));
    structuredClone(first, { transfer: [first.buffer as ArrayBuffer] });
    expect(first.byteLength).toBe(0);
    expect(bytesCodec.decodeEvent(event(5, 40))).toEqual(event(5, 40));
    expect(bytesCodec.decodeEvent(new Uint8Array(0))).toEqual(new Uint8Array(0));
  });

  test.prop([fc.array(fc.uint8Array({ maxLength: 1100 }), { minLength: 1, maxLength: 40 })])(
    "a batch round-trips for any event sizes, on both sides of the slab limit",
    (events) => {
      const decoded = bytesCodec.decodeBatch(batchOf(events));
      expect(decoded).toEqual(events);
      for (const e of decoded) expect(e.byteLength <= 1024 ? e.byteOffset % 8 : e.byteOffset).toBe(0);
    },
  );
});
