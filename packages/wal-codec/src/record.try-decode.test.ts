import { fc, test } from "@fast-check/vitest";
import { describe, expect, it } from "vitest";
import { bytesCodec } from "./bytes-codec.js";
import { crc32 } from "./crc32.js";
import { type JsonValue, jsonCodec } from "./json-codec.js";
import type { PayloadCodec } from "./payload-codec.js";
import { DecodeFailure, decodeRecord, encodeRecord, tryDecodeRecord } from "./record.js";
import { recordArbitrary } from "./test-support/record-arbitrary.js";

/** The `decodeRecord` outcome each failure stands for: the error code, and for the two `WAL_DECODE`s the message. */
const MEANING: Record<number, { code: string; message?: RegExp } | "incomplete"> = {
  [DecodeFailure.incomplete]: "incomplete",
  [DecodeFailure.badLength]: { code: "WAL_BAD_LENGTH" },
  [DecodeFailure.tooLarge]: { code: "WAL_RECORD_TOO_LARGE" },
  [DecodeFailure.unknownKind]: { code: "WAL_UNKNOWN_KIND" },
  [DecodeFailure.crcMismatch]: { code: "WAL_CRC_MISMATCH" },
  [DecodeFailure.unsafeLsn]: { code: "WAL_DECODE", message: /safe integer range/ },
  [DecodeFailure.markerPayload]: { code: "WAL_MARKER_PAYLOAD" },
  [DecodeFailure.payload]: { code: "WAL_DECODE", message: /could not be decoded/ },
};

/** Both forms (with and without the DataView) give the verdict `decodeRecord` gives on the same bytes. */
function expectAgreement<E>(bytes: Uint8Array, offset: number, codec: PayloadCodec<E>): string {
  const slow = decodeRecord(bytes, offset, codec);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (const fast of [tryDecodeRecord(bytes, offset, codec), tryDecodeRecord(bytes, offset, codec, view)]) {
    if (slow.kind === "record") {
      expect(typeof fast).toBe("object");
      expect(fast).toEqual(slow.record);
      expect(view.getUint32(offset, true)).toBe(slow.byteLength);
      continue;
    }
    expect(typeof fast).toBe("number");
    const meaning = MEANING[fast as number];
    if (slow.kind === "incomplete") {
      expect(meaning).toBe("incomplete");
    } else {
      expect(meaning).toMatchObject({ code: slow.error.code });
      const pattern = meaning !== "incomplete" ? meaning?.message : undefined;
      if (pattern !== undefined) expect(slow.error.message).toMatch(pattern);
    }
  }
  return slow.kind === "corrupt" ? slow.error.code : slow.kind;
}

const lsn = fc.oneof(fc.integer({ min: 0, max: 1000 }), fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }));
const payload = fc.uint8Array({ maxLength: 300 });
const record = recordArbitrary(payload, { lsn });

// `bytesCodec` itself is decoded in place; a copy of it and `jsonCodec` go through the codec's methods.
const codecs: PayloadCodec<unknown>[] = [
  bytesCodec as PayloadCodec<unknown>,
  { ...bytesCodec } as PayloadCodec<unknown>,
  jsonCodec as PayloadCodec<unknown>,
];

/**
 * An edit: set the byte at `at` (taken modulo the record's length) to `value`. Half the edits hit the kind byte or
 * the top bytes of the two LSNs, where a single change (with the CRC recomputed) reaches a specific check.
 */
const edit = fc.oneof(
  fc.record({ at: fc.nat(), value: fc.integer({ min: 0, max: 255 }) }),
  fc.record({ at: fc.constant(4), value: fc.integer({ min: 0, max: 8 }) }),
  fc.record({ at: fc.constantFrom(12, 20), value: fc.integer({ min: 0, max: 255 }) }),
);

describe("tryDecodeRecord agrees with decodeRecord", () => {
  test.prop([fc.uint8Array({ maxLength: 400 }), fc.nat(400)], { numRuns: 300 })(
    "on arbitrary bytes at any offset",
    (bytes, at) => {
      for (const codec of codecs) expectAgreement(bytes, Math.min(at, bytes.byteLength), codec);
    },
  );

  test.prop(
    [
      fc.uint8Array({ maxLength: 24 }),
      record,
      fc.array(edit, { maxLength: 3 }),
      fc.boolean(),
      // Truncated in a quarter of the runs: a cut record is only ever "incomplete" or a length failure.
      fc.oneof({ arbitrary: fc.constant(undefined), weight: 3 }, { arbitrary: fc.nat(), weight: 1 }),
    ],
    { numRuns: 500 },
  )("on valid, mutated, re-checksummed and truncated records", (before, rec, edits, fixCrc, cut) => {
    const framed = encodeRecord(rec, bytesCodec);
    for (const { at, value } of edits) framed[at % framed.byteLength] = value;
    // Recomputing the CRC after an edit reaches the checks behind it: kind, LSN range, marker payload, payload.
    if (fixCrc) {
      const length = framed.byteLength;
      new DataView(framed.buffer).setUint32(length - 4, crc32(framed.subarray(0, length - 4)), true);
    }
    const whole = Uint8Array.from([...before, ...framed]);
    const bytes = cut === undefined ? whole : whole.subarray(0, before.length + (cut % (framed.byteLength + 1)));
    for (const codec of codecs) expectAgreement(bytes, before.length, codec);
  });

  it("reaches every failure class", () => {
    const seen = new Set<string>();
    const begin = encodeRecord({ kind: "txBegin", lsn: 7 }, bytesCodec);
    const mutation = encodeRecord({ kind: "mutation", lsn: 8, txBeginLsn: 7, event: Uint8Array.of(0x7b) }, bytesCodec);
    const refresh = (b: Uint8Array) => {
      new DataView(b.buffer).setUint32(b.byteLength - 4, crc32(b.subarray(0, b.byteLength - 4)), true);
      return b;
    };
    seen.add(expectAgreement(begin, 0, bytesCodec));
    seen.add(expectAgreement(begin.subarray(0, 10), 0, bytesCodec));
    seen.add(expectAgreement(Uint8Array.of(24, 0, 0, 0, 2), 0, bytesCodec));
    seen.add(expectAgreement(Uint8Array.of(0xff, 0xff, 0xff, 0xff, 2), 0, bytesCodec));
    seen.add(expectAgreement(refresh(Uint8Array.from(begin, (b, i) => (i === 4 ? 9 : b))), 0, bytesCodec));
    seen.add(
      expectAgreement(
        Uint8Array.from(begin, (b, i) => (i === 24 ? b ^ 1 : b)),
        0,
        bytesCodec,
      ),
    );
    seen.add(expectAgreement(refresh(Uint8Array.from(begin, (b, i) => (i === 12 ? 0xff : b))), 0, bytesCodec));
    seen.add(expectAgreement(refresh(Uint8Array.from(mutation, (b, i) => (i === 4 ? 2 : b))), 0, bytesCodec));
    seen.add(expectAgreement(mutation, 0, jsonCodec as PayloadCodec<JsonValue>));
    expect([...seen].sort()).toEqual(
      [
        "record",
        "incomplete",
        "WAL_BAD_LENGTH",
        "WAL_RECORD_TOO_LARGE",
        "WAL_UNKNOWN_KIND",
        "WAL_CRC_MISMATCH",
        "WAL_DECODE",
        "WAL_MARKER_PAYLOAD",
      ].sort(),
    );
  });

  it("honours a codec copy that overrides decodeBatch", () => {
    const framed = encodeRecord(
      { kind: "mutationBatch", lsn: 2, txBeginLsn: 1, events: [Uint8Array.of(1)] },
      bytesCodec,
    );
    const marker = Uint8Array.of(42);
    const custom: PayloadCodec<Uint8Array> = { ...bytesCodec, decodeBatch: () => [marker] };
    const got = tryDecodeRecord(framed, 0, custom);
    expect(got).toMatchObject({ kind: "mutationBatch", events: [marker] });
  });
});
