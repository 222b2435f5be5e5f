/**
 * Recovery on a full disk. Recovery keeps every byte it cuts in a `.broken` copy; the copy needs room. A torn tail
 * (bytes never acknowledged) is cut without a copy when there is none, and the report says so; corruption cut in
 * `point-in-time` (bytes that may have been acknowledged) changes nothing and fails with `WAL_NO_SPACE`. Neither
 * leaves a partial or empty `.broken` file, however often it is tried. Before, every attempt failed with `WAL_IO`
 * and left another empty `.N.broken` behind.
 */

import { type JsonValue, jsonCodec } from "@lora/wal-codec";
import { segmentPath } from "@lora/wal-segment";
import { SimFS } from "@lora/wal-segment/testing";
import { describe, expect, it } from "vitest";
import { Wal } from "./wal.js";

const DIR = "/w";

/** A 4 KiB unsynced window, so a small log has bytes an fsync covered before it (the default is 1 MiB). */
const WINDOW = 4096;

async function writeLog(fs: SimFS, n: number, segmentTargetBytes?: number): Promise<void> {
  fs.mkdirpSync(DIR);
  const { wal } = await Wal.open<JsonValue>(DIR, {
    fs,
    codec: jsonCodec,
    unsyncedWindowBytes: WINDOW,
    ...(segmentTargetBytes === undefined ? {} : { segmentTargetBytes }),
  });
  for (let i = 0; i < n; i++) await wal.commitTx([`event ${i}`]);
  await wal.close();
}

/** 300 bytes of garbage after the records of the first segment: a torn tail that recovery cuts (copying it first). */
function appendTornTail(fs: SimFS): { path: string; recordBytes: number } {
  const path = segmentPath(DIR, 1);
  const bytes = fs.readFileSync(path);
  const torn = new Uint8Array(bytes.byteLength + 300);
  torn.set(bytes);
  torn.fill(0xab, bytes.byteLength);
  fs.writeFileSync(path, torn);
  return { path, recordBytes: bytes.byteLength };
}

function files(fs: SimFS): string[] {
  return fs.listSync(DIR).sort();
}

/** Every file of the directory with its bytes: what "nothing changes" compares. */
function imageOf(fs: SimFS): [string, number[]][] {
  return files(fs).map((f) => [f, Array.from(fs.readFileSync(`${DIR}/${f}`))]);
}

function openPointInTime(fs: SimFS) {
  return Wal.open<JsonValue>(DIR, { fs, codec: jsonCodec, recovery: "point-in-time", unsyncedWindowBytes: WINDOW });
}

describe("recovery on a full disk", () => {
  it("cuts a torn tail without a copy when there is no room, says so, and leaves no .broken file", async () => {
    const fs = new SimFS();
    await writeLog(fs, 3);
    const { path, recordBytes } = appendTornTail(fs);
    const full = fs.injectFault({ op: "write", path: /\.broken$/, errno: "ENOSPC", persistent: true });
    for (let attempt = 0; attempt < 3; attempt++) {
      const { wal, events, healed } = await Wal.open<JsonValue>(DIR, { fs, codec: jsonCodec });
      expect(events).toEqual(["event 0", "event 1", "event 2"]);
      if (attempt === 0) {
        expect(healed).toEqual([
          {
            kind: "tornTailTruncated",
            segment: path,
            offset: recordBytes,
            droppedBytes: 300,
            brokenCopy: null,
            copyError: "ENOSPC",
          },
        ]);
      } else expect(healed).toEqual([]);
      await wal.close();
      expect(files(fs).filter((f) => f.includes("broken"))).toEqual([]);
    }
    expect(full.hits).toBe(1);
  });

  it("a torn tail cut without a copy: no crash image after the open holds the failed copy's file", async () => {
    const fs = new SimFS();
    await writeLog(fs, 3);
    appendTornTail(fs);
    // The copy is created, fails its first write, and is removed: both entry changes must be durable by the time
    // the open returns, or a power loss could bring back an empty `.broken` file.
    fs.injectFault({ op: "write", path: /\.broken$/, errno: "ENOSPC", persistent: true });
    const { wal, healed } = await Wal.open<JsonValue>(DIR, { fs, codec: jsonCodec });
    expect(healed).toMatchObject([{ kind: "tornTailTruncated", brokenCopy: null, copyError: "ENOSPC" }]);
    const left: string[] = [];
    let images = 0;
    for (const image of fs.crashImages()) {
      images++;
      const broken = image.fs.listSync(DIR).filter((f) => f.includes("broken"));
      if (broken.length > 0) left.push(`${image.description}: ${broken.join(", ")}`);
    }
    await wal.close();
    expect(images).toBeGreaterThan(0);
    expect(left).toEqual([]);
  });

  it("a quota exceeded (EDQUOT) is no room too: the torn tail is cut without a copy", async () => {
    const fs = new SimFS();
    await writeLog(fs, 2);
    const { path, recordBytes } = appendTornTail(fs);
    fs.injectFault({ op: "write", path: /\.broken$/, errno: "EDQUOT", persistent: true });
    const { wal, events, healed } = await Wal.open<JsonValue>(DIR, { fs, codec: jsonCodec });
    expect(events).toEqual(["event 0", "event 1"]);
    expect(healed).toMatchObject([{ kind: "tornTailTruncated", brokenCopy: null, copyError: "EDQUOT" }]);
    await wal.close();
    expect(files(fs).filter((f) => f.includes("broken"))).toEqual([]);
    expect(fs.readFileSync(path).byteLength).toBe(recordBytes);
  });

  it("point-in-time: corruption with no room for its copy is WAL_NO_SPACE naming the room needed; nothing changes", async () => {
    const fs = new SimFS();
    await writeLog(fs, 80);
    const path = segmentPath(DIR, 1);
    const bytes = fs.readFileSync(path);
    const damagedAt = 32 + 25 + 20; // inside the first transaction's batch (after its 25-byte begin)
    bytes[damagedAt] = (bytes[damagedAt] as number) ^ 0xff;
    fs.writeFileSync(path, bytes);
    const before = imageOf(fs);
    const full = fs.injectFault({ op: "write", path: /\.broken$/, errno: "ENOSPC", persistent: true });
    // The damaged record starts after the first transaction's begin: everything from there is cut.
    const cutAt = 32 + 25;
    for (let attempt = 0; attempt < 3; attempt++) {
      await expect(openPointInTime(fs)).rejects.toMatchObject({
        code: "WAL_NO_SPACE",
        details: { neededBytes: bytes.byteLength - cutAt, errno: "ENOSPC", offset: cutAt },
      });
      expect(imageOf(fs)).toEqual(before);
    }
    full.remove();
    const { wal, events, healed } = await openPointInTime(fs);
    expect(events).toEqual([]);
    expect(healed[0]).toMatchObject({ kind: "corruptionCut", offset: cutAt, droppedBytes: bytes.byteLength - cutAt });
    await wal.close();
  });

  it("point-in-time: corruption in an older segment with no room for its copy moves no later segment aside", async () => {
    const fs = new SimFS();
    await writeLog(fs, 60, 1024);
    const names = files(fs).filter((f) => f.endsWith(".wal"));
    expect(names.length).toBeGreaterThan(2);
    const path = segmentPath(DIR, 1);
    const bytes = fs.readFileSync(path);
    const cutAt = 32 + 25; // the first transaction's batch, after its 25-byte begin
    bytes[cutAt + 20] = (bytes[cutAt + 20] as number) ^ 0xff;
    fs.writeFileSync(path, bytes);
    const before = imageOf(fs);
    const full = fs.injectFault({ op: "write", path: /\.broken$/, errno: "ENOSPC", persistent: true });
    await expect(openPointInTime(fs)).rejects.toMatchObject({
      code: "WAL_NO_SPACE",
      details: { neededBytes: bytes.byteLength - cutAt, errno: "ENOSPC", offset: cutAt },
    });
    expect(imageOf(fs)).toEqual(before);
    full.remove();
    const { wal, healed } = await openPointInTime(fs);
    expect(healed[0]).toMatchObject({ kind: "corruptionCut", offset: cutAt, droppedBytes: bytes.byteLength - cutAt });
    expect(healed[0]?.kind === "corruptionCut" && healed[0].laterSegmentsMoved.length).toBe(names.length - 1);
    await wal.close();
  });
});
