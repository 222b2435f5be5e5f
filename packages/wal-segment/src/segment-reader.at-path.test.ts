/**
 * `SegmentReader.atPath`: whether the file at the reader's path is still the one it reads. Told by the file's
 * identity where the seam reports one (the Node seam and SimFS do): a new file at the path is another file whatever
 * it holds. A seam without identity falls back to what the files hold: the base LSN and the 4 KiB before the read
 * position. The same answers on SimFS and on real files, since a follower relies on them on both.
 */

import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { bytesCodec, type WalRecord } from "@lora/wal-codec";
import { afterEach, describe, expect, it } from "vitest";
import type { WalFileSystem } from "./fs/file-system.js";
import { createNodeFileSystem } from "./fs/node-file-system.js";
import { SegmentReader } from "./segment-reader.js";
import { SegmentWriter } from "./segment-writer.js";
import { withoutIdentity } from "./test-support/without-identity.js";
import { SimFS } from "./testing/sim-fs.js";
import { interceptOpen } from "./testing/wrapped-fs.js";

const tx = (begin: number, fill: number): WalRecord<Uint8Array>[] => [
  { kind: "txBegin", lsn: begin },
  { kind: "mutation", lsn: begin + 1, txBeginLsn: begin, event: new Uint8Array(8).fill(fill) },
  { kind: "txCommit", lsn: begin + 2, txBeginLsn: begin },
];

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
});

async function onReal(): Promise<{ fs: WalFileSystem; dir: string }> {
  const dir = await mkdtemp(join(tmpdir(), "lora-wal-at-path-"));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  return { fs: createNodeFileSystem(), dir };
}

function onSim(): Promise<{ fs: WalFileSystem; dir: string }> {
  return Promise.resolve({ fs: SimFS.withDir("/w"), dir: "/w" });
}

/** A segment of base `base` written at `path` holding the transactions starting at the given LSNs (their fill each). */
async function writeSegment(fs: WalFileSystem, path: string, base: number, txs: [number, number][]): Promise<void> {
  const writer = await SegmentWriter.create(fs, path, base);
  for (const [begin, fill] of txs) for (const r of tx(begin, fill)) writer.append(r, bytesCodec);
  await writer.flush();
  await writer.close();
}

async function readAll(reader: SegmentReader): Promise<number> {
  let n = 0;
  while ((await reader.next(bytesCodec)).kind === "record") n++;
  return n;
}

describe.each([
  ["SimFS", onSim],
  ["real files", onReal],
])("SegmentReader.atPath on %s", (_name, make) => {
  it("is `same` while the file there is the one read, also grown and sealed by its writer", async () => {
    const { fs, dir } = await make();
    const path = join(dir, "0000000001.wal");
    const writer = await SegmentWriter.create(fs, path, 1);
    for (const r of tx(1, 1)) writer.append(r, bytesCodec);
    await writer.flush();
    const reader = await SegmentReader.open(fs, path);
    try {
      expect(await reader.atPath(fs)).toBe("same"); // nothing read: the base alone
      expect(await readAll(reader)).toBe(3);
      expect(await reader.atPath(fs)).toBe("same");
      for (const r of tx(4, 2)) writer.append(r, bytesCodec);
      await writer.seal();
      await writer.close();
      expect(await reader.atPath(fs)).toBe("same");
    } finally {
      await reader.close();
    }
  });

  it("is `none` when nothing is at the path, and `other` for another file there", async () => {
    const { fs, dir } = await make();
    const path = join(dir, "0000000001.wal");
    await writeSegment(fs, path, 1, [
      [1, 1],
      [4, 2],
    ]);
    const reader = await SegmentReader.open(fs, path);
    try {
      expect(await readAll(reader)).toBe(6);
      await fs.rename(path, `${path}.broken`);
      expect(await reader.atPath(fs)).toBe("none");

      // The same base and sizes, other events: the CRC before the position differs.
      await writeSegment(fs, path, 1, [
        [1, 1],
        [4, 3],
      ]);
      expect(await reader.atPath(fs)).toBe("other");

      // Shorter than the position: the bytes before it cannot be read there.
      await fs.unlink(path);
      await writeSegment(fs, path, 1, [[1, 1]]);
      expect(await reader.atPath(fs)).toBe("other");

      // Another base LSN.
      await fs.unlink(path);
      await writeSegment(fs, path, 7, [[7, 1]]);
      expect(await reader.atPath(fs)).toBe("other");

      // A header that does not read.
      await fs.unlink(path);
      const file = await fs.open(path, "createExclusive");
      await file.write(new Uint8Array(40).fill(0xee), 0);
      await file.close();
      expect(await reader.atPath(fs)).toBe("other");
    } finally {
      await reader.close();
    }
  });

  it("is `other` for a new file holding the very same bytes before the position", async () => {
    const { fs, dir } = await make();
    const path = join(dir, "0000000001.wal");
    await writeSegment(fs, path, 1, [[1, 1]]);
    const reader = await SegmentReader.open(fs, path);
    try {
      expect(await readAll(reader)).toBe(3);
      await fs.rename(path, `${path}.broken`);
      // The same base, the same records up to the position (the whole window), more after it.
      await writeSegment(fs, path, 1, [
        [1, 1],
        [4, 9],
      ]);
      expect(await reader.atPath(fs)).toBe("other");
      // Unlinked and made again, the very same bytes as the file read: still another file.
      await fs.unlink(path);
      await writeSegment(fs, path, 1, [[1, 1]]);
      expect(await reader.atPath(fs)).toBe("other");
      // The file read, back at its path: the same one.
      await fs.rename(`${path}.broken`, path);
      expect(await reader.atPath(fs)).toBe("same");
    } finally {
      await reader.close();
    }
  });

  it("is `other` for a new file of the same base before any record was read", async () => {
    const { fs, dir } = await make();
    const path = join(dir, "0000000001.wal");
    await writeSegment(fs, path, 1, []);
    const reader = await SegmentReader.open(fs, path);
    try {
      expect(reader.position).toBe(32);
      expect(await reader.atPath(fs)).toBe("same");
      await fs.rename(path, `${path}.broken`);
      await writeSegment(fs, path, 1, [[1, 5]]);
      expect(await reader.atPath(fs)).toBe("other");
      await fs.unlink(path);
      await writeSegment(fs, path, 1, []);
      expect(await reader.atPath(fs)).toBe("other");
    } finally {
      await reader.close();
    }
  });

  it("is `other` for the file read when it is cut below the position", async () => {
    const { fs, dir } = await make();
    const path = join(dir, "0000000001.wal");
    await writeSegment(fs, path, 1, [
      [1, 1],
      [4, 2],
    ]);
    const reader = await SegmentReader.open(fs, path);
    try {
      expect(await readAll(reader)).toBe(6);
      const file = await fs.open(path, "readWrite");
      await file.truncate(reader.position - 1);
      await file.close();
      expect(await reader.atPath(fs)).toBe("other");
    } finally {
      await reader.close();
    }
  });

  it("tells by identity without opening the path, however many times it looks", async () => {
    const { fs: inner, dir } = await make();
    const path = join(dir, "0000000001.wal");
    await writeSegment(inner, path, 1, [[1, 1]]);
    let opens = 0;
    const fs = interceptOpen(inner, (p, mode, next) => {
      opens++;
      return next(p, mode);
    });
    const reader = await SegmentReader.open(fs, path);
    try {
      expect(await readAll(reader)).toBe(3);
      opens = 0;
      for (let i = 0; i < 10; i++) expect(await reader.atPath(fs)).toBe("same");
      expect(opens).toBe(0);
      await fs.unlink(path);
      expect(await reader.atPath(fs)).toBe("none");
      await writeSegment(inner, path, 1, [[1, 1]]);
      opens = 0;
      expect(await reader.atPath(fs)).toBe("other");
      expect(opens).toBe(0);
    } finally {
      await reader.close();
    }
  });
});

describe.each([
  ["SimFS", onSim],
  ["real files", onReal],
])("SegmentReader.atPath on %s through a seam without file identity", (_name, make) => {
  it("tells by the base and the bytes before the position: `same`, `other`, `none`", async () => {
    const { fs: inner, dir } = await make();
    const fs = withoutIdentity(inner);
    const path = join(dir, "0000000001.wal");
    await writeSegment(fs, path, 1, [
      [1, 1],
      [4, 2],
    ]);
    const reader = await SegmentReader.open(fs, path);
    try {
      expect(await readAll(reader)).toBe(6);
      expect(await reader.atPath(fs)).toBe("same");
      await fs.rename(path, `${path}.broken`);
      expect(await reader.atPath(fs)).toBe("none");
      await writeSegment(fs, path, 1, [
        [1, 1],
        [4, 3],
      ]);
      expect(await reader.atPath(fs)).toBe("other");
      await fs.unlink(path);
      await writeSegment(fs, path, 7, [[7, 1]]);
      expect(await reader.atPath(fs)).toBe("other");
    } finally {
      await reader.close();
    }
  });

  it("cannot tell a new file of the same base holding the very same bytes before the position (its blind spots)", async () => {
    const { fs: inner, dir } = await make();
    const fs = withoutIdentity(inner);
    const path = join(dir, "0000000001.wal");
    await writeSegment(fs, path, 1, [[1, 1]]);
    const fresh = await SegmentReader.open(fs, path);
    const reader = await SegmentReader.open(fs, path);
    try {
      expect(await readAll(reader)).toBe(3);
      await fs.rename(path, `${path}.broken`);
      await writeSegment(fs, path, 1, [
        [1, 1],
        [4, 9],
      ]);
      expect(await reader.atPath(fs)).toBe("same");
      expect(await fresh.atPath(fs)).toBe("same"); // nothing read: the base is all it has to compare
    } finally {
      await reader.close();
      await fresh.close();
    }
  });
});
