/**
 * Property: for random damaged directories (bytes flipped, cut or zeroed in any segment, garbage or a CRC-valid
 * undecodable record appended, the newest segment sealed or not, a zero-filled or short successor, the newest
 * segment replaced by zeros) and any codec, the CLI's own walk classifies the first damage exactly as replay does
 * (`torn-tail`, `corruption`, `headerless`, `codec-mismatch`, `bad-header`), `verify`, `inspect`, `stat` and `dump`
 * say the same, and so does `Wal.open` in the default mode. Structure errors (`malformed`: a cut at a record
 * boundary can drop a transaction's begin) are replay's alone: then replay, `verify` and `Wal.open` must agree.
 */

import { appendFile, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { fc, test } from "@fast-check/vitest";
import { makeTempDir } from "@lora/test-utils";
import { encodeRecord, type PayloadCodec } from "@lora/wal-codec";
import { segmentFileName } from "@lora/wal-segment";
import { describe, expect } from "vitest";
import type { CodecName } from "../src/read-options.js";
import { cliOutcomes, openOutcome, replayOutcome, sealHeader } from "./agreement.js";
import { segmentFiles, writeJsonWal } from "./helpers.js";

const damageArb = fc.record({
  /** Which segment: the newest half of the time (where torn tails and headerless segments live). */
  seg: fc.oneof(fc.constant("newest" as const), fc.nat()),
  kind: fc.constantFrom("flip", "cut", "zeroTail", "zeroRange", "garbage", "undecodable"),
  at: fc.double({ min: 0, max: 1, noNaN: true, maxExcluded: true }),
  /** Where `at` points: the whole file, or only the records after the header. */
  records: fc.boolean(),
  xor: fc.integer({ min: 1, max: 255 }),
});

const scenarioArb = fc.record({
  transactions: fc.integer({ min: 1, max: 30 }),
  segmentTargetBytes: fc.constantFrom(256, 700, 1500, 1 << 20),
  sealNewest: fc.boolean(),
  successor: fc.oneof(
    { weight: 3, arbitrary: fc.constant(undefined) },
    { weight: 1, arbitrary: fc.constantFrom(0, 5, 31, 32, 100, 4096) },
  ),
  zeroNewest: fc.oneof({ weight: 5, arbitrary: fc.constant(false) }, { weight: 1, arbitrary: fc.constant(true) }),
  damage: fc.option(damageArb, { nil: undefined }),
  codec: fc.oneof(
    { weight: 6, arbitrary: fc.constant<CodecName>("json") },
    { weight: 1, arbitrary: fc.constantFrom<CodecName>("lora", "bytes") },
  ),
});
type Scenario = typeof scenarioArb extends fc.Arbitrary<infer T> ? T : never;

/** A CRC-valid mutation record whose payload is not JSON (nor LoraDB's LW1, nor a bytes batch). */
function undecodableRecord(lsn: number): Uint8Array {
  const raw: PayloadCodec<Uint8Array> = {
    name: "raw",
    encodeEvent: (e, out) => out.raw(e),
    encodeBatch: (es, out) => out.raw(es[0] as Uint8Array),
    decodeEvent: (p) => p,
    decodeBatch: (p) => [p],
  };
  return encodeRecord({ kind: "mutationBatch", lsn, txBeginLsn: 1, events: [Uint8Array.of(0x7b, 0xff)] }, raw);
}

async function makeDir(dir: string, s: Scenario): Promise<void> {
  await writeJsonWal(dir, s.transactions, s.segmentTargetBytes);
  let names = await segmentFiles(dir);
  const newest = join(dir, names.at(-1) as string);
  if (s.sealNewest) await sealHeader(newest);
  if (s.zeroNewest) await writeFile(newest, new Uint8Array((await readFile(newest)).byteLength));
  if (s.successor !== undefined)
    await writeFile(join(dir, segmentFileName(names.length + 1)), new Uint8Array(s.successor));
  names = await segmentFiles(dir);
  const d = s.damage;
  if (d === undefined) return;
  const path = join(dir, names[d.seg === "newest" ? names.length - 1 : d.seg % names.length] as string);
  let bytes: Uint8Array = await readFile(path);
  const from = d.records ? Math.min(32, bytes.byteLength) : 0;
  const at = from + Math.floor(d.at * (bytes.byteLength - from));
  switch (d.kind) {
    case "flip":
      if (at >= bytes.byteLength) return;
      bytes[at] = (bytes[at] as number) ^ d.xor;
      break;
    case "cut":
      bytes = bytes.subarray(0, at);
      break;
    case "zeroTail":
      bytes.fill(0, at);
      break;
    case "zeroRange":
      bytes.fill(0, at, Math.min(bytes.byteLength, at + 1 + (d.xor % 40)));
      break;
    case "garbage":
      await appendFile(path, new Uint8Array(1 + (d.xor % 50)).fill(d.xor));
      return;
    case "undecodable":
      await appendFile(path, undecodableRecord(1_000_000 + d.xor));
      return;
  }
  await writeFile(path, bytes);
}

describe("the CLI's classification is replay's and Wal.open's", () => {
  test.prop([scenarioArb], { numRuns: 120 })(
    "for random damaged directories, any codec",
    async (s) => {
      const tmp = await makeTempDir("lora-wal-agree-prop");
      try {
        const dir = join(tmp.path, "wal");
        await makeDir(dir, s);
        const replay = await replayOutcome(dir, s.codec);
        const cli = await cliOutcomes(dir, s.codec);
        // Wal.open last: it repairs what it may.
        const opened = await openOutcome(dir, s.codec);
        if (replay === "malformed") {
          expect({ verify: cli.verify, opened }).toEqual({ verify: "malformed", opened: "malformed" });
          return;
        }
        expect({ ...cli, opened }).toEqual({
          walk: replay,
          dump: replay,
          stat: replay,
          inspect: replay,
          verify: replay,
          opened: replay,
        });
      } finally {
        await tmp.cleanup();
      }
    },
    300_000,
  );
});
