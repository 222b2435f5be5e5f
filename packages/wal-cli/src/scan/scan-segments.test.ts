/**
 * The scan beside a writer creating its newest segment: it may read that file in the instant between its creation
 * and its header's write. A header that is there when the scan looks at the file again is read, not reported as a
 * bad header (the CLI's commands promise not to fail beside a live writer).
 */

import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { jsonCodec } from "@lora/wal-codec";
import { createNodeFileSystem, SegmentWriter, segmentPath } from "@lora/wal-segment";
import { boundProperty, wrapFileSystem } from "@lora/wal-segment/testing";
import { afterEach, beforeEach, expect, it } from "vitest";
import { scanTarget } from "./scan-segments.js";
import { resolveTarget } from "./wal-target.js";

const fs = createNodeFileSystem();
let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "lora-wal-scan-"));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function writeSegment(id: number, base: number, sealed: boolean): Promise<void> {
  const w = await SegmentWriter.create(fs, segmentPath(dir, id), base);
  w.append({ kind: "txBegin", lsn: base }, jsonCodec);
  w.append({ kind: "mutation", lsn: base + 1, txBeginLsn: base, event: { id } }, jsonCodec);
  w.append({ kind: "txCommit", lsn: base + 2, txBeginLsn: base }, jsonCodec);
  if (sealed) await w.seal();
  else await w.flush();
  await w.close();
}

/** `fs`, with its first open of `path` reading nothing (the file as its writer had just created it). */
function blankFirstOpen(path: string) {
  const state = { fired: 0 };
  const seam = wrapFileSystem(fs, (file) => {
    if (state.fired > 0 || file.path !== path) return file;
    state.fired++;
    return new Proxy(file, {
      get(f, k) {
        if (k === "read") return () => Promise.resolve(0);
        if (k === "readSync" || k === "sizeSync") return undefined;
        if (k === "size") return () => Promise.resolve(0);
        return boundProperty(f, k);
      },
    });
  });
  return { state, seam };
}

async function scanAll(path: string, seam: typeof fs) {
  const target = await resolveTarget(seam, path);
  const scans = [];
  for await (const event of scanTarget(target, { codec: jsonCodec, fs: seam })) {
    if (event.type === "segment") scans.push(event.scan);
  }
  return scans;
}

it("reads a newest segment whose header landed after the scan's blank read", async () => {
  await writeSegment(1, 1, true);
  await writeSegment(2, 4, false);
  const { state, seam } = blankFirstOpen(segmentPath(dir, 2));
  const scans = await scanAll(dir, seam);
  expect(scans.map((s) => [s.id, s.records, s.damage])).toEqual([
    [1, 3, null],
    [2, 3, null],
  ]);
  expect(state.fired).toBe(1);
});

it("a single file given on its own is read once: a blank read is 'not a segment', never read again", async () => {
  await writeSegment(1, 1, false);
  const { state, seam } = blankFirstOpen(segmentPath(dir, 1));
  const [scan] = await scanAll(segmentPath(dir, 1), seam);
  expect(scan?.damage?.kind).toBe("bad-header");
  expect(state.fired).toBe(1);
});
