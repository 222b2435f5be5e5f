/**
 * A model of `SegmentWriter.truncateTo` among appends, writes, blocking writes and syncs, called in any order without
 * waiting for each other. The model holds the records the file must hold (`file`) and those appended since the last
 * write call (`pending`):
 * - `append` adds to `pending`; `write()` (and a `writeNow()` that writes) moves `pending` to `file`: a write writes at
 *   least what was appended before its call;
 * - `truncateTo` at a record boundary of `file` cuts `file` there and empties `pending` (what was appended before the
 *   call is cut or dropped: either way it is gone); one past the most the file could hold is refused with
 *   `WAL_BAD_HEADER` and changes nothing.
 * When everything called has settled, the file holds `file` and then a prefix of `pending` (a write called while
 * another ran takes what was appended up to when it starts), which the model then takes as written; at the end,
 * after a flush, the file and every crash image hold exactly `file`. The writer never fails, and never counts more
 * bytes synced than written. Run on SimFS with a small unsynced window and on the Node seam with real files.
 */

import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fc, test } from "@fast-check/vitest";
import { bytesCodec, encodeRecord, type WalRecord } from "@lora/wal-codec";
import { describe, expect } from "vitest";
import type { WalFileSystem } from "./fs/file-system.js";
import { createNodeFileSystem } from "./fs/node-file-system.js";
import { SEGMENT_HEADER_BYTES } from "./segment-header.js";
import { SegmentWriter } from "./segment-writer.js";
import { segmentLsns } from "./test-support/segment-lsns.js";
import { SimFS } from "./testing/sim-fs.js";

type Step =
  | { readonly op: "append"; readonly size: number }
  | { readonly op: "write" | "writeNow" | "sync" | "turn" | "settle" }
  | { readonly op: "truncate"; readonly at: number }
  | { readonly op: "truncatePast" };

const stepArb: fc.Arbitrary<Step> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ op: fc.constant("append" as const), size: fc.constantFrom(0, 40, 700, 3000) }) },
  { weight: 3, arbitrary: fc.constantFrom({ op: "write" as const }, { op: "writeNow" as const }) },
  { weight: 1, arbitrary: fc.constant({ op: "sync" as const }) },
  {
    weight: 2,
    arbitrary: fc.record({ op: fc.constant("truncate" as const), at: fc.double({ min: 0, max: 1, noNaN: true }) }),
  },
  { weight: 1, arbitrary: fc.constant({ op: "truncatePast" as const }) },
  { weight: 2, arbitrary: fc.constantFrom({ op: "turn" as const }, { op: "settle" as const }) },
);

interface Rec {
  readonly lsn: number;
  readonly bytes: number;
}

const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

function record(lsn: number, size: number): WalRecord<Uint8Array> {
  return { kind: "mutation", lsn, txBeginLsn: 1, event: new Uint8Array(size).fill(lsn & 0xff) };
}

const readLsns = segmentLsns;

const sum = (records: readonly Rec[]): number => records.reduce((total, r) => total + r.bytes, 0);

async function runModel(
  fs: WalFileSystem,
  path: string,
  steps: readonly Step[],
  options: { maxUnsyncedBytes: number; preallocateBytes: number },
): Promise<void> {
  const writer = await SegmentWriter.create(fs, path, 1, options);
  let file: Rec[] = [];
  let pending: Rec[] = [];
  let lsn = 0;
  const outstanding: Promise<void>[] = [];
  const problems: string[] = [];
  const expectSettles = (what: string, promise: Promise<void>, refusedWith?: string): void => {
    outstanding.push(
      promise.then(
        () => {
          if (refusedWith !== undefined) problems.push(`${what} resolved, expected ${refusedWith}`);
        },
        (error: unknown) => {
          const code = (error as { code?: unknown }).code;
          if (refusedWith === undefined || code !== refusedWith) problems.push(`${what} rejected: ${String(error)}`);
        },
      ),
    );
  };
  const settle = async (): Promise<void> => {
    await Promise.all(outstanding.splice(0));
    expect(problems).toEqual([]);
    expect(writer.failure).toBeUndefined();
    expect(writer.unsyncedBytes).toBeGreaterThanOrEqual(0);
    expect(writer.unsyncedBytes).toBeLessThanOrEqual(options.maxUnsyncedBytes);
    // The file holds `file`, then what writes took of `pending`: from now on, written.
    const { lsns } = await readLsns(fs, path);
    const taken = lsns.length - file.length;
    expect(taken).toBeGreaterThanOrEqual(0);
    expect(lsns).toEqual([...file, ...pending.slice(0, taken)].map((r) => r.lsn));
    file = [...file, ...pending.slice(0, taken)];
    pending = pending.slice(taken);
    expect(writer.writtenBytes).toBe(SEGMENT_HEADER_BYTES + sum(file));
  };

  for (const step of steps) {
    switch (step.op) {
      case "append": {
        lsn++;
        const bytes = writer.append(record(lsn, step.size), bytesCodec);
        expect(bytes).toBe(encodeRecord(record(lsn, step.size), bytesCodec).byteLength);
        pending.push({ lsn, bytes });
        break;
      }
      case "write":
        expectSettles("write", writer.write());
        file = [...file, ...pending];
        pending = [];
        break;
      case "writeNow":
        if (writer.writeNow()) {
          file = [...file, ...pending];
          pending = [];
        }
        break;
      case "sync":
        expectSettles("sync", writer.sync());
        break;
      case "truncate": {
        const keep = Math.floor(step.at * (file.length + 1)) % (file.length + 1);
        const offset = SEGMENT_HEADER_BYTES + sum(file.slice(0, keep));
        expectSettles(`truncateTo(${offset})`, writer.truncateTo(offset));
        file = file.slice(0, keep);
        pending = [];
        break;
      }
      case "truncatePast": {
        const offset = SEGMENT_HEADER_BYTES + sum(file) + sum(pending) + 1;
        expectSettles(`truncateTo(${offset})`, writer.truncateTo(offset), "WAL_BAD_HEADER");
        break;
      }
      case "turn":
        await turn();
        break;
      case "settle":
        await settle();
        break;
    }
  }
  await settle();
  await writer.flush();
  file = [...file, ...pending];
  pending = [];
  await writer.close();
  await expect(readLsns(fs, path)).resolves.toEqual({ lsns: file.map((r) => r.lsn), end: "end" });
  if (fs instanceof SimFS) {
    for (const image of fs.crashImages({ maxImages: 8 })) {
      await expect(readLsns(image.fs, path), image.description).resolves.toEqual({
        lsns: file.map((r) => r.lsn),
        end: "end",
      });
    }
  }
}

describe("SegmentWriter.truncateTo among appends, writes and syncs, against a model", () => {
  test.prop(
    [fc.array(stepArb, { minLength: 10, maxLength: 80 }), fc.constantFrom(4096, 16 * 1024), fc.constantFrom(0, 8192)],
    { numRuns: 150 },
  )("on SimFS", async (steps, maxUnsyncedBytes, preallocateBytes) => {
    const sim = SimFS.withDir("/w");
    await runModel(sim, "/w/0000000001.wal", steps, { maxUnsyncedBytes, preallocateBytes });
  });

  test.prop([fc.array(stepArb, { minLength: 10, maxLength: 40 }), fc.constantFrom(0, 8192)], { numRuns: 20 })(
    "on the Node seam (real files)",
    async (steps, preallocateBytes) => {
      const dir = await mkdtemp(join(tmpdir(), "lora-wal-trunc-model-"));
      try {
        await runModel(createNodeFileSystem(), join(dir, "0000000001.wal"), steps, {
          maxUnsyncedBytes: 4096,
          preallocateBytes,
        });
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    },
  );
});
