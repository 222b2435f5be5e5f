/**
 * A value with no printable form is refused with the documented code like any other bad value. The refusals printed
 * it with `String()` or a template literal, which throw a `TypeError` for a null-prototype object (and a symbol, in
 * a template) and rethrow a `toString` that throws, so the caller got an uncoded error instead.
 */

import { UNPRINTABLE_VALUES as UNPRINTABLE } from "@lora/test-utils";
import { describe, expect, it } from "vitest";
import { ByteWriter } from "./byte-writer.js";
import { checkSignal } from "./check-options.js";
import { jsonCodec } from "./json-codec.js";
import { encodeRecord, encodeRecordInto, type WalRecord } from "./record.js";

function expectRefused(code: string, call: (value: unknown) => unknown): void {
  for (const [label, value] of UNPRINTABLE) {
    expect(() => call(value), label).toThrow(expect.objectContaining({ name: "WalError", code }));
  }
}

const record = (fields: Record<string, unknown>) => fields as unknown as WalRecord<unknown>;

describe("unprintable values are refused with their code", () => {
  it("checkSignal: WAL_INVALID_OPTION", () => {
    expectRefused("WAL_INVALID_OPTION", (v) => checkSignal(v));
  });

  it("encodeRecord's kind and LSNs: WAL_ENCODE", () => {
    expectRefused("WAL_ENCODE", (v) => encodeRecord(record({ kind: v, lsn: 1, txBeginLsn: 1 }), jsonCodec));
    expectRefused("WAL_ENCODE", (v) => encodeRecord(record({ kind: "txBegin", lsn: v }), jsonCodec));
    expectRefused("WAL_ENCODE", (v) => encodeRecord(record({ kind: "txCommit", lsn: 2, txBeginLsn: v }), jsonCodec));
  });
});

describe("encodeRecord takes only the record kinds as kinds", () => {
  it("refuses Object.prototype's names, writing nothing (they framed a record of kind 0)", () => {
    for (const kind of ["toString", "constructor", "__proto__", "hasOwnProperty"]) {
      const out = new ByteWriter();
      expect(() => encodeRecordInto(record({ kind, lsn: 1, txBeginLsn: 1 }), jsonCodec, out), kind).toThrow(
        expect.objectContaining({ code: "WAL_ENCODE" }),
      );
      expect(out.length).toBe(0);
    }
  });
});
