/**
 * Interop with the real engine: LoraDB (`@loradb/lora-node`) writes a WAL directory, and every mutation payload in
 * it must decode with `loraCodec` and re-encode to the identical bytes.
 */

import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { crc32 } from "node:zlib";
import { LORA_MULTI_SEGMENT_BYTES, makeTempDir, writeLoraFixture } from "@lora/test-utils";
import { describe, expect, it } from "vitest";
import { ByteWriter } from "../src/byte-writer.js";
import { loraCodec } from "../src/lora/lora-codec.js";
import {
  LoraBinary,
  LoraDate,
  LoraDateTime,
  LoraDuration,
  LoraLocalDateTime,
  LoraLocalTime,
  LoraPoint,
  LoraTime,
  type LoraVector,
  type PropertyMap,
} from "../src/lora/lora-values.js";
import type { MutationEvent, MutationEventOf } from "../src/lora/mutation-event.js";
import { MUTATION_EVENT_TYPES } from "../src/lora/mutation-event.js";

interface RawRecord {
  readonly kind: number;
  readonly lsn: bigint;
  readonly txBeginLsn: bigint;
  readonly payload: Uint8Array;
}

/** Minimal segment walker (docs/format.md): 32-byte header, then length/kind/lsn/tx/payload/crc records. */
function walkSegment(file: Uint8Array): RawRecord[] {
  expect(Buffer.from(file.subarray(0, 8)).toString("latin1")).toBe("LORAWAL\0");
  const view = new DataView(file.buffer, file.byteOffset, file.byteLength);
  const records: RawRecord[] = [];
  let at = 32;
  while (at < file.length) {
    const length = view.getUint32(at, true);
    expect(length).toBeGreaterThanOrEqual(25);
    expect(at + length).toBeLessThanOrEqual(file.length);
    const crc = view.getUint32(at + length - 4, true);
    expect(crc32(file.subarray(at, at + length - 4))).toBe(crc);
    records.push({
      kind: file[at + 4] as number,
      lsn: view.getBigUint64(at + 5, true),
      txBeginLsn: view.getBigUint64(at + 13, true),
      payload: file.subarray(at + 21, at + length - 4),
    });
    at += length;
  }
  return records;
}

interface WalContents {
  readonly records: RawRecord[];
  readonly events: MutationEvent[];
}

/** Decode every mutation payload of a LoraDB WAL dir and check each one re-encodes byte for byte. */
async function readWal(walDir: string, segments: readonly string[]): Promise<WalContents> {
  const records: RawRecord[] = [];
  const events: MutationEvent[] = [];
  const out = new ByteWriter();
  for (const name of segments) {
    for (const record of walkSegment(await readFile(join(walDir, name)))) {
      records.push(record);
      out.reset();
      if (record.kind === 1) {
        const event = loraCodec.decodeEvent(record.payload);
        loraCodec.encodeEvent(event, out);
        events.push(event);
      } else if (record.kind === 6) {
        const batch = loraCodec.decodeBatch(record.payload);
        loraCodec.encodeBatch(batch, out);
        events.push(...batch);
      } else {
        expect(record.payload.length).toBe(0);
        continue;
      }
      expect(Buffer.from(out.view()).equals(Buffer.from(record.payload))).toBe(true);
    }
  }
  return { records, events };
}

function ofType<T extends MutationEvent["type"]>(events: MutationEvent[], type: T): MutationEventOf<T>[] {
  return events.filter((e): e is MutationEventOf<T> => e.type === type);
}

/** The properties a node with `label` was created with. */
function created(events: MutationEvent[], label: string): PropertyMap {
  const node = ofType(events, "CreateNode").find((e) => e.labels.includes(label));
  if (node === undefined) throw new Error(`no CreateNode with label ${label}`);
  return node.properties;
}

describe("LoraDB-written WAL", () => {
  it("decodes every payload, re-encodes it identically, and holds every mutation type", async () => {
    const tmp = await makeTempDir("lora-interop");
    try {
      const fixture = await writeLoraFixture({ walDir: join(tmp.path, "wal") });
      expect(fixture.segments).toEqual(["0000000001.wal"]);
      const { records, events } = await readWal(fixture.walDir, fixture.segments);

      expect(new Set(records.map((r) => r.kind))).toEqual(new Set([2, 3, 6]));
      // The two `IF EXISTS` drops of missing names change nothing, and an empty transaction writes no records.
      expect(records.filter((r) => r.kind === 3).length).toBe(fixture.transactions - 2);

      const types = new Set(events.map((e) => e.type));
      for (const t of MUTATION_EVENT_TYPES) {
        expect(types, t).toContain(t);
      }

      const ints = created(events, "Ints");
      expect(ints.max).toBe(9223372036854775807n);
      expect(ints.min).toBe(-9223372036854775808n);

      const floats = created(events, "Floats");
      // LoraDB turns division by zero into null, so NaN and infinities never reach its WAL.
      expect(floats.nan).toBe(null);
      expect(floats.inf).toBe(null);
      expect(Object.is(floats.negzero, -0)).toBe(true);
      expect(floats.pi).toBe(Math.PI);

      expect(created(events, "Strings").unicode).toBe("h\u00e9llo \u{1F600} \uE000");

      const t = created(events, "Temporal");
      expect(t.d).toStrictEqual(new LoraDate(2026, 4, 27));
      expect(t.dt).toBeInstanceOf(LoraDateTime);
      expect((t.dt as LoraDateTime).offsetSeconds).toBe(7200);
      expect(t.dur).toBeInstanceOf(LoraDuration);
      const pt = created(events, "ParamTemporal");
      expect(pt.lt).toStrictEqual(new LoraLocalTime(12, 34, 56, 123456789));
      expect(pt.t).toStrictEqual(new LoraTime(12, 34, 56, 789_000_000, 3600));
      expect(pt.ldt).toStrictEqual(new LoraLocalDateTime(2026, 4, 27, 12, 34, 56, 500_000_000));

      const p = created(events, "Points");
      expect((p.cart2 as LoraPoint).z).toBe(undefined);
      expect((p.cart3 as LoraPoint).z).toBe(3.5);
      expect(p.geo).toBeInstanceOf(LoraPoint);

      const v = created(events, "Vectors");
      expect((v.f64 as LoraVector).values).toBeInstanceOf(Float64Array);
      expect((v.f32 as LoraVector).values).toBeInstanceOf(Float32Array);
      expect((v.i64 as LoraVector).values).toStrictEqual(new BigInt64Array([1n, 2n, -3n]));
      expect((v.i32 as LoraVector).values).toBeInstanceOf(Int32Array);
      expect((v.i16 as LoraVector).values).toBeInstanceOf(Int16Array);
      expect((v.i8 as LoraVector).values).toStrictEqual(new Int8Array([1, 2, -3]));

      const b = created(events, "Binary");
      expect(b.b).toBeInstanceOf(LoraBinary);
      expect((b.b as LoraBinary).segments).toStrictEqual([new Uint8Array([0, 1, 2]), new Uint8Array([3, 4, 255])]);
      expect((b.empty as LoraBinary).segments).toStrictEqual([]);

      const m = created(events, "Maps");
      expect(Object.keys(m.m as PropertyMap)).toEqual(["a", "b"]);
      expect(Object.hasOwn(m.proto as PropertyMap, "__proto__")).toBe(true);

      const indexes = ofType(events, "CreateIndex");
      expect(indexes.map((e) => e.request.kind)).toEqual(
        expect.arrayContaining(["Range", "Text", "Point", "Vector", "Fulltext"]),
      );
      const constraints = ofType(events, "CreateConstraint");
      expect(constraints.map((e) => e.request.kind)).toEqual(
        expect.arrayContaining(["Unique", "Existence", "PropertyType", "NodeKey", "RelationshipKey"]),
      );
      expect(fixture.summary.nodes).toBeGreaterThan(0);
    } finally {
      await tmp.cleanup();
    }
  });

  it("spans several segments and writes checkpoint markers when asked", async () => {
    const tmp = await makeTempDir("lora-interop-multi");
    try {
      const fixture = await writeLoraFixture({
        walDir: join(tmp.path, "wal"),
        snapshotDir: join(tmp.path, "snapshots"),
        snapshotEveryCommits: 10,
        bulkBytes: LORA_MULTI_SEGMENT_BYTES,
      });
      expect(fixture.segments.length).toBeGreaterThanOrEqual(2);
      const { records, events } = await readWal(fixture.walDir, fixture.segments);
      expect(records.some((r) => r.kind === 5)).toBe(true);
      expect(ofType(events, "CreateNode").some((e) => e.labels.includes("Bulk"))).toBe(true);
    } finally {
      await tmp.cleanup();
    }
  });
});
