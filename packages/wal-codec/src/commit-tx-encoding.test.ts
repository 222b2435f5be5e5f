import { fc, test } from "@fast-check/vitest";
import { describe, expect, it } from "vitest";
import { ByteWriter } from "./byte-writer.js";
import { bytesCodec } from "./bytes-codec.js";
import { isWalError } from "./errors.js";
import { type JsonValue, jsonCodec } from "./json-codec.js";
import { encodeCommitTxInto, encodeRecordInto } from "./record.js";

/** The three records of a transaction, encoded one by one through the general path. */
function threeRecords<E>(beginLsn: number, events: readonly E[], codec: Parameters<typeof encodeRecordInto<E>>[1]) {
  const out = new ByteWriter(16);
  encodeRecordInto({ kind: "txBegin", lsn: beginLsn }, codec, out);
  encodeRecordInto({ kind: "mutationBatch", lsn: beginLsn + 1, txBeginLsn: beginLsn, events }, codec, out);
  encodeRecordInto({ kind: "txCommit", lsn: beginLsn + 2, txBeginLsn: beginLsn }, codec, out);
  return out.copy();
}

const lsnArb = fc.oneof(fc.nat({ max: 1000 }), fc.constant(Number.MAX_SAFE_INTEGER - 2), fc.nat());

describe("encodeCommitTxInto", () => {
  test.prop([lsnArb, fc.array(fc.uint8Array({ maxLength: 300 }), { minLength: 1, maxLength: 5 }), fc.nat(64)])(
    "writes exactly the bytes of TxBegin + MutationBatch + TxCommit (bytes codec), after existing content",
    (beginLsn, events, prefix) => {
      const out = new ByteWriter(16);
      out.raw(new Uint8Array(prefix).fill(7));
      const n = encodeCommitTxInto(beginLsn, events, bytesCodec, out);
      const expected = threeRecords(beginLsn, events, bytesCodec);
      expect(n).toBe(expected.byteLength);
      expect(out.copy(prefix)).toEqual(expected);
    },
  );

  test.prop([lsnArb, fc.array(fc.jsonValue() as fc.Arbitrary<JsonValue>, { minLength: 1, maxLength: 4 })])(
    "matches the general path with the JSON codec",
    (beginLsn, events) => {
      const out = new ByteWriter(16);
      encodeCommitTxInto(beginLsn, events, jsonCodec, out);
      expect(out.copy()).toEqual(threeRecords(beginLsn, events, jsonCodec));
    },
  );

  it("leaves the buffer untouched when an event cannot be encoded", () => {
    const out = new ByteWriter(16);
    out.raw(Uint8Array.of(1, 2, 3));
    const bad = [new Uint8Array(10), "not bytes" as unknown as Uint8Array];
    expect(() => encodeCommitTxInto(5, bad, bytesCodec, out)).toThrowError(
      expect.objectContaining({ code: "WAL_ENCODE" }),
    );
    expect(out.copy()).toEqual(Uint8Array.of(1, 2, 3));
  });

  it("refuses an empty transaction and LSNs that are not safe integers, writing nothing", () => {
    const out = new ByteWriter(16);
    for (const [lsn, events] of [
      [1, []],
      [Number.MAX_SAFE_INTEGER - 1, [new Uint8Array(1)]],
      [-1, [new Uint8Array(1)]],
      [1.5, [new Uint8Array(1)]],
    ] as const) {
      let caught: unknown;
      try {
        encodeCommitTxInto(lsn, events, bytesCodec, out);
      } catch (error) {
        caught = error;
      }
      expect(isWalError(caught, "WAL_ENCODE")).toBe(true);
      expect(out.length).toBe(0);
    }
  });
});
