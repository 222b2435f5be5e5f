/**
 * Beside a live writer, the newest segment can be sealed while a reader opens it. `SegmentReader.open` used to
 * measure the file before reading its header: a length measured while a record was being written, then a header
 * read after the seal, made that record "damage in a sealed segment", which the damage rules call corruption. The
 * `lora-wal` commands reported a healthy live log as corrupt (exit 2) about once in 200 runs beside a writer that
 * rotates small segments. The length is now measured after the header.
 *
 * The writer's step (the rest of the record written, then the seal) runs between the reader's two looks at the
 * file, whichever comes first; a length measured first is one the file had while that record's write was landing
 * (a file grows page by page under a large write).
 */

import { bytesCodec, type WalRecord } from "@lora/wal-codec";
import { expect, it } from "vitest";
import type { WalFile } from "./fs/file-system.js";
import { SegmentReader } from "./segment-reader.js";
import { SegmentWriter } from "./segment-writer.js";
import { SimFS } from "./testing/sim-fs.js";
import { boundProperty, wrapFileSystem } from "./testing/wrapped-fs.js";

const PATH = "/w/0000000001.wal";

function commit(writer: SegmentWriter, lsn: number, bytes: number): void {
  const records: WalRecord<Uint8Array>[] = [
    { kind: "txBegin", lsn },
    { kind: "mutation", lsn: lsn + 1, txBeginLsn: lsn, event: new Uint8Array(bytes).fill(7) },
    { kind: "txCommit", lsn: lsn + 2, txBeginLsn: lsn },
  ];
  for (const r of records) writer.append(r, bytesCodec);
}

it("a reader that finds the segment sealed reads all its records, though the writer sealed it during the open", async () => {
  const sim = new SimFS();
  sim.mkdirpSync("/w");
  const writer = await SegmentWriter.create(sim, PATH, 1, { preallocateBytes: 0 });
  commit(writer, 1, 100);
  await writer.flush();
  const before = (await sim.stat(PATH))?.size as number;
  // The writer's step: a large transaction, then the seal (rotation). While its write lands, the file is `during`
  // bytes long.
  const during = before + 1000;
  let looks = 0;
  const writerStep = async () => {
    commit(writer, 4, 8000);
    await writer.seal();
  };
  const live = (file: WalFile): WalFile =>
    new Proxy(file, {
      get(target, key) {
        if (key === "readSync" || key === "sizeSync") return undefined;
        if (key === "size") {
          return async () => {
            if (looks++ > 0) return await target.size();
            await writerStep();
            return during;
          };
        }
        if (key === "read") {
          return async (buffer: Uint8Array, offset: number, length: number, position: number) => {
            const n = await target.read(buffer, offset, length, position);
            if (looks++ === 0) await writerStep();
            return n;
          };
        }
        return boundProperty(target, key);
      },
    });
  const fs = wrapFileSystem(sim, (file, mode) => (mode === "read" ? live(file) : file));

  const reader = await SegmentReader.open(fs, PATH);
  const steps: string[] = [];
  for (;;) {
    const step = await reader.next(bytesCodec);
    if (step.kind === "end") break;
    steps.push(step.kind === "record" ? step.record.kind : `damaged: ${step.error.message}`);
    if (step.kind === "damaged") break;
  }
  expect(writer.sealed).toBe(true);
  // The header the reader holds was read after the seal or before it; either way no record reads as damage, and a
  // sealed one has them all.
  expect(steps.filter((s) => s.startsWith("damaged"))).toEqual([]);
  if (reader.sealed) expect(steps).toHaveLength(6);
  await reader.close();
  await writer.close();
});
