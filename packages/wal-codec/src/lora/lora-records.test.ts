/** Whole records with the lora codec: every record kind, arbitrary nested LW1 values, through the framing. */

import { fc, test } from "@fast-check/vitest";
import { describe, expect } from "vitest";
import { decodeRecord, encodeRecord, type WalRecord } from "../record.js";
import { recordArbitrary } from "../test-support/record-arbitrary.js";
import { loraCodec } from "./lora-codec.js";
import type { MutationEvent } from "./mutation-event.js";
import { event } from "./test-support/lw1-arbitraries.js";
import { dump } from "./test-support/structural-dump.js";

const record: fc.Arbitrary<WalRecord<MutationEvent>> = recordArbitrary(event);

describe("lora records", () => {
  test.prop([record])("every record kind round-trips through the framing and re-encodes identically", (generated) => {
    // fast-check builds records without a prototype; the decoder returns ordinary objects.
    const r = { ...generated };
    const bytes = encodeRecord(r, loraCodec);
    const decoded = decodeRecord(bytes, 0, loraCodec);
    expect(decoded.kind).toBe("record");
    if (decoded.kind !== "record") return;
    expect(decoded.byteLength).toBe(bytes.byteLength);
    expect(dump(decoded.record)).toEqual(dump(r));
    expect(Buffer.from(encodeRecord(decoded.record, loraCodec))).toEqual(Buffer.from(bytes));
  });

  test.prop([record, fc.nat(), fc.integer({ min: 1, max: 255 })])(
    "a changed byte anywhere is never decoded as the same record",
    (r, at, xor) => {
      const bytes = encodeRecord(r, loraCodec);
      const i = at % bytes.byteLength;
      bytes[i] = (bytes[i] as number) ^ xor;
      const decoded = decodeRecord(bytes, 0, loraCodec);
      expect(decoded.kind).not.toBe("record");
    },
  );
});
