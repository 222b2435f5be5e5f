/**
 * `lora-wal restore`'s progress bar on a terminal is fed by `restore`'s `onProgress` (at most one call per MiB
 * fetched, and one at the end): in-process on an archive of a few MiB in many objects, with a clock that moves a
 * second at every reading so the bar's redraw limit never holds a frame back and every call shows as one frame.
 */

import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { makeTempDir } from "@lora/test-utils";
import { archiveKey, fsArchive } from "@lora/wal-archive";
import { crc32, type JsonValue, jsonCodec, type WalRecord } from "@lora/wal-codec";
import { createNodeFileSystem, SegmentReader, SegmentWriter, segmentPath } from "@lora/wal-segment";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { renderProgressBar } from "../src/format/progress-bar.js";
import { runCli } from "./helpers.js";

const MIB = 1 << 20;
const EVENT = "y".repeat(1000);
const CLEAR_LINE = "\r\u001b[2K";

let tmp: { path: string; cleanup(): Promise<void> };
beforeEach(async () => {
  tmp = await makeTempDir("lora-wal-restore-progress");
});
afterEach(async () => {
  vi.restoreAllMocks();
  await tmp.cleanup();
});

/**
 * Three sealed segments of about 800 KiB, archived whole, and an active one archived as one piece per transaction
 * (what the archiver ships); returns the total bytes and the number of objects.
 */
async function buildArchive(logDir: string, archiveDir: string): Promise<{ bytes: number; objects: number }> {
  const fs = createNodeFileSystem();
  await fs.mkdirp(logDir);
  const store = fsArchive(archiveDir);
  let lsn = 1;
  let bytes = 0;
  let objects = 0;
  for (let id = 1; id <= 4; id++) {
    const path = segmentPath(logDir, id);
    const baseLsn = lsn;
    const active = id === 4;
    const w = await SegmentWriter.create(fs, path, baseLsn);
    for (let t = 0; t < (active ? 40 : 800); t++) {
      const records: WalRecord<JsonValue>[] = [
        { kind: "txBegin", lsn },
        { kind: "mutation", lsn: lsn + 1, txBeginLsn: lsn, event: EVENT },
        { kind: "txCommit", lsn: lsn + 2, txBeginLsn: lsn },
      ];
      for (const r of records) w.append(r, jsonCodec);
      lsn += 3;
    }
    if (active) await w.flush();
    else await w.seal();
    await w.close();
    const file = new Uint8Array(await readFile(path));
    bytes += file.byteLength;
    if (!active) {
      const key = archiveKey({ kind: "segment", id, baseLsn, size: file.byteLength, crc32: crc32(file) });
      await store.put(key, file);
      objects++;
      continue;
    }
    let from = 0;
    for (const to of await commitEnds(path)) {
      const piece = file.slice(from, to);
      await store.put(archiveKey({ kind: "piece", id, baseLsn, from, to, crc32: crc32(piece) }), piece);
      objects++;
      from = to;
    }
  }
  return { bytes, objects };
}

/** Where each transaction of a segment ends (after its commit record). */
async function commitEnds(path: string): Promise<number[]> {
  const reader = await SegmentReader.open(createNodeFileSystem(), path);
  const ends: number[] = [];
  try {
    for (;;) {
      const step = await reader.next(jsonCodec);
      if (step.kind === "end") return ends;
      if (step.kind === "damaged") throw step.error;
      if (step.record.kind === "txCommit") ends.push(step.offset + step.byteLength);
    }
  } finally {
    await reader.close();
  }
}

describe("lora-wal restore's progress bar", () => {
  it("draws one frame per MiB fetched and the end (restore's onProgress), not one per object", async () => {
    const archiveDir = join(tmp.path, "archive");
    const { bytes, objects } = await buildArchive(join(tmp.path, "wal"), archiveDir);
    expect(bytes).toBeGreaterThan(2 * MIB);
    let clock = 0;
    vi.spyOn(Date, "now").mockImplementation(() => {
      clock += 1000;
      return clock;
    });

    const run = await runCli(["restore", archiveDir, join(tmp.path, "restored")], {
      tty: true,
      env: { NO_COLOR: "1" },
    });
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain(`(${bytes} bytes), from ${objects} objects`);

    // Every frame clears the line first; the bar erases itself at the end.
    expect(run.stderr.endsWith(CLEAR_LINE)).toBe(true);
    const frames = run.stderr.split(CLEAR_LINE).filter((f) => f !== "");
    expect(frames).toHaveLength(Math.floor(bytes / MIB) + 1);
    expect(frames.length).toBeLessThan(objects / 5);
    expect(frames.at(-1)).toBe(
      renderProgressBar("restore", { bytesDone: bytes, bytesTotal: bytes, segmentsDone: 4, segmentsTotal: 4 }),
    );
    for (const frame of frames.slice(0, -1)) expect(frame).toMatch(/^restore \[#* *\] +\d+%.* \d\/4 segments$/);
  });
});
