/**
 * What a caller's code throws (a payload codec's encode or decode, a getter of an event given to `loraCodec`) may
 * have no printable form. The errors that wrap it printed it with `String()`, which throws a `TypeError` for a
 * null-prototype object and rethrows a `toString` that throws, so the caller got that instead of the coded error
 * (and `decodeRecord`, which never throws, threw).
 */

import { UNPRINTABLE_VALUES as UNPRINTABLE } from "@lora/test-utils";
import { describe, expect, it } from "vitest";
import { ByteWriter } from "./byte-writer.js";
import { loraCodec } from "./lora/lora-codec.js";
import type { MutationEvent } from "./lora/mutation-event.js";
import type { PayloadCodec } from "./payload-codec.js";
import { decodeRecord, encodeRecord, encodeRecordInto } from "./record.js";

/** A codec whose every method throws `thrown`, and that encodes nothing before it does. */
function throwingCodec(thrown: unknown): PayloadCodec<unknown> {
  const fail = (): never => {
    throw thrown;
  };
  return { name: "throws", encodeEvent: fail, encodeBatch: fail, decodeEvent: fail, decodeBatch: fail };
}

describe("what a caller's code throws is wrapped with its code, whatever it is", () => {
  it("a codec's encodeEvent and encodeBatch: WAL_ENCODE with it as cause, nothing written", () => {
    for (const [label, thrown] of UNPRINTABLE) {
      const codec = throwingCodec(thrown);
      const out = new ByteWriter();
      let error: unknown;
      try {
        encodeRecordInto({ kind: "mutation", lsn: 2, txBeginLsn: 1, event: 0 }, codec, out);
      } catch (e) {
        error = e;
      }
      expect(error, label).toMatchObject({ name: "WalError", code: "WAL_ENCODE" });
      expect((error as Error).cause, label).toBe(thrown);
      expect(out.length, label).toBe(0);
      expect(() => encodeRecord({ kind: "mutationBatch", lsn: 2, txBeginLsn: 1, events: [0] }, codec), label).toThrow(
        expect.objectContaining({ name: "WalError", code: "WAL_ENCODE" }),
      );
    }
  });

  it("a codec's decodeEvent and decodeBatch: decodeRecord answers WAL_DECODE with it as cause, never throws", () => {
    const oneByte: PayloadCodec<unknown> = {
      name: "one",
      encodeEvent: (_e, out) => out.u8(7),
      encodeBatch: (_e, out) => out.u8(7),
      decodeEvent: () => 0,
      decodeBatch: () => [],
    };
    const bytesOf = (kind: "mutation" | "mutationBatch") =>
      encodeRecord(
        kind === "mutation" ? { kind, lsn: 2, txBeginLsn: 1, event: 0 } : { kind, lsn: 2, txBeginLsn: 1, events: [0] },
        oneByte,
      );
    for (const kind of ["mutation", "mutationBatch"] as const) {
      const bytes = bytesOf(kind);
      for (const [label, thrown] of UNPRINTABLE) {
        const result = decodeRecord(bytes, 0, throwingCodec(thrown));
        expect(result, `${kind}, ${label}`).toMatchObject({ kind: "corrupt", error: { code: "WAL_DECODE" } });
        expect(result.kind === "corrupt" && result.error.cause, `${kind}, ${label}`).toBe(thrown);
      }
    }
  });

  it("loraCodec, a getter of the event: WAL_ENCODE with it as cause, nothing written", () => {
    const events = (thrown: unknown): [string, MutationEvent][] => {
      const fail = (): never => {
        throw thrown;
      };
      return [
        [
          "CreateNode",
          {
            type: "CreateNode",
            id: 1n,
            properties: {},
            get labels() {
              return fail();
            },
          } as never,
        ],
        [
          "CreateIndex",
          {
            type: "CreateIndex",
            ifNotExists: false,
            get request() {
              return fail();
            },
          } as never,
        ],
      ];
    };
    for (const [label, thrown] of UNPRINTABLE) {
      for (const [type, event] of events(thrown)) {
        const out = new ByteWriter();
        let error: unknown;
        try {
          loraCodec.encodeEvent(event, out);
        } catch (e) {
          error = e;
        }
        expect(error, `${type}, ${label}`).toMatchObject({ name: "WalError", code: "WAL_ENCODE" });
        expect((error as Error).cause, `${type}, ${label}`).toBe(thrown);
        expect(out.length, `${type}, ${label}`).toBe(0);
      }
    }
  });
});
