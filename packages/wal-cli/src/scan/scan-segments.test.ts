/**
 * The scan beside a writer creating its newest segment: it may read that file in the instant between its creation
 * and its header's write. A header that is there when the scan looks at the file again is read, not reported as a
 * bad header (the CLI's commands promise not to fail beside a live writer).
 */

import { mkdtemp, rm, unlink } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { jsonCodec } from "@lora/wal-codec";
import { createNodeFileSystem, SegmentWriter, segmentPath } from "@lora/wal-segment";
import { blankFile, boundProperty, wrapFileSystem } from "@lora/wal-segment/testing";
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

/**
 * `fs`, with its first open of `path` reading nothing (the file as its writer had just created it); with
 * `alsoRemove`, the file is removed during that read (a restarted writer's recovery removing it as headerless).
 */
function blankFirstOpen(path: string, alsoRemove = false) {
  const state = { fired: 0 };
  const seam = wrapFileSystem(fs, (file) => {
    if (state.fired > 0 || file.path !== path) return file;
    state.fired++;
    return blankFile(file, async () => {
      if (alsoRemove) await unlink(path);
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

it("reports a newest segment read blank and gone by the second look as headerless, size 0 (as replay does)", async () => {
  await writeSegment(1, 1, true);
  await writeSegment(2, 4, false);
  const { state, seam } = blankFirstOpen(segmentPath(dir, 2), true);
  const scans = await scanAll(dir, seam);
  expect(scans.map((s) => [s.id, s.records, s.damage?.kind ?? null, s.fileSize])).toEqual([
    [1, 3, null, scans[0]?.fileSize],
    [2, 0, "headerless", 0],
  ]);
  expect(state.fired).toBe(1);
});

it("an I/O error at the second look is thrown, never reported as damage", async () => {
  await writeSegment(1, 1, false);
  const path = segmentPath(dir, 1);
  let opens = 0;
  // Open 1 (the scan's) reads blank; open 2 is the damage rules' look for zeros; open 3, the second look, fails.
  const failing = new Proxy(fs, {
    get(target, k) {
      if (k === "open") {
        return async (p: string, mode: Parameters<typeof fs.open>[1]) => {
          if (p !== path) return target.open(p, mode);
          opens++;
          if (opens === 1) return blankFile(await target.open(p, mode));
          if (opens >= 3) throw Object.assign(new Error("EIO"), { code: "EIO" });
          return target.open(p, mode);
        };
      }
      return boundProperty(target, k);
    },
  });
  await expect(scanAll(dir, failing)).rejects.toThrow("EIO");
  expect(opens).toBe(3);
});
