/** A torn tail cut at open is kept as a `.broken` copy, and no later cut overwrites an earlier copy. */

import { encodeRecord, isWalError, jsonCodec } from "@lora/wal-codec";
import { segmentPath, type WalFile } from "@lora/wal-segment";
import { SimFS, wrapFileSystem } from "@lora/wal-segment/testing";
import { describe, expect, it } from "vitest";
import { Wal } from "./wal.js";

/** A SimFS holding a log of one commit in `/w`, and the path of its segment. */
async function oneCommitLog(): Promise<{ fs: SimFS; path: string }> {
  const fs = new SimFS();
  fs.mkdirpSync("/w");
  const { wal } = await Wal.open("/w", { fs, codec: jsonCodec });
  await wal.commitTx(["a"]);
  await wal.close();
  return { fs, path: segmentPath("/w", 1) };
}

describe(".broken copies", () => {
  it("a second cut at the same offset never overwrites the first recovery's .broken copy", async () => {
    const { fs, path } = await oneCommitLog();
    const copies = new Map<string, number[]>();
    for (const garbage of [
      [1, 2, 3, 4],
      [9, 9],
    ]) {
      fs.writeFileSync(path, Uint8Array.from([...fs.readFileSync(path), ...garbage]));
      const { wal: again, healed } = await Wal.open("/w", { fs, codec: jsonCodec });
      const cut = healed.find((h) => h.kind === "tornTailTruncated");
      if (cut?.kind === "tornTailTruncated" && cut.brokenCopy !== null) copies.set(cut.brokenCopy, garbage);
      await again.close();
    }
    expect(copies.size).toBe(2);
    for (const [copy, garbage] of copies) expect(Array.from(fs.readFileSync(copy))).toEqual(garbage);
  });

  it("fsyncs the copy and its directory side by side, and cuts only once both are done", async () => {
    const { fs: sim, path } = await oneCommitLog();
    sim.writeFileSync(path, Uint8Array.from([...sim.readFileSync(path), 1, 2, 3, 4]));
    // Hold the copy's fsync until the directory's has started; note the order of the steps that matter.
    const steps: string[] = [];
    let releaseCopySync: () => void = () => undefined;
    const copySyncHeld = new Promise<void>((resolve) => {
      releaseCopySync = resolve;
    });
    // A recovery that waits for the copy's fsync before the directory's is let go after a while, to fail below.
    const letGo = setTimeout(() => releaseCopySync(), 1000);
    const wrapFile = (file: WalFile): WalFile =>
      new Proxy(file, {
        get(target, key) {
          const value = Reflect.get(target, key, target) as unknown;
          if (typeof value !== "function") return value;
          if (key === "sync" && target.path.endsWith(".broken")) {
            return async () => {
              steps.push("copy fsync started");
              await copySyncHeld;
              await target.sync();
              steps.push("copy fsync done");
            };
          }
          if (key === "truncate") {
            return (length: number) => {
              steps.push("cut");
              return target.truncate(length);
            };
          }
          return value.bind(target);
        },
      });
    const fs = wrapFileSystem(sim, wrapFile, {
      syncDir: async (p: string) => {
        steps.push("directory fsync started");
        releaseCopySync();
        await sim.syncDir(p);
        steps.push("directory fsync done");
      },
    });
    const { wal: again, healed } = await Wal.open("/w", { fs, codec: jsonCodec });
    expect(healed.map((h) => h.kind)).toContain("tornTailTruncated");
    const cut = steps.indexOf("cut");
    expect(steps.slice(0, 2)).toEqual(["copy fsync started", "directory fsync started"]);
    expect(steps.indexOf("copy fsync done")).toBeLessThan(cut);
    expect(steps.indexOf("directory fsync done")).toBeLessThan(cut);
    clearTimeout(letGo);
    await again.close();
  });

  it("a directory fsync that fails beside the copy fails the open and keeps the copy, even with ENOSPC", async () => {
    const { fs, path } = await oneCommitLog();
    const torn = Uint8Array.from([...fs.readFileSync(path), 1, 2, 3, 4]);
    fs.writeFileSync(path, torn);
    // ENOSPC from the directory's fsync is not "no room for the copy": the copy was made and is kept.
    fs.injectFault({ op: "syncDir", errno: "ENOSPC" });
    const failed = await Wal.open("/w", { fs, codec: jsonCodec }).catch((e: unknown) => e);
    expect(isWalError(failed, "WAL_IO")).toBe(true);
    expect(Array.from(fs.readFileSync(path))).toEqual(Array.from(torn));
    expect(Array.from(fs.readFileSync(`${path}.${torn.byteLength - 4}.broken`))).toEqual([1, 2, 3, 4]);
    fs.clearFaults();
    const { wal: again, healed } = await Wal.open("/w", { fs, codec: jsonCodec });
    expect(healed.map((h) => h.kind)).toContain("tornTailTruncated");
    await again.close();
  });

  // The copy goes through the file in pieces (a quarter of a tail under 4 MiB, else 1 MiB): whatever the piece
  // size, the copy holds the tail's bytes exactly, in order.
  for (const bytes of [1000, 100 * 1024, 300 * 1024, 1025 * 1024, 4 * 1024 * 1024 + 1, 5 * 1024 * 1024]) {
    it(`copies a torn tail of ${bytes} bytes byte for byte`, async () => {
      const { fs, path } = await oneCommitLog();
      // A record claiming more than the file holds (its end never landed); its bytes repeat every 26, which no
      // piece size divides, so a piece copied to the wrong place shows.
      const event = Array.from({ length: bytes + 4096 }, (_, i) => String.fromCharCode(97 + ((i * 7) % 26))).join("");
      const record = encodeRecord({ kind: "mutation", lsn: 4, txBeginLsn: 4, event }, jsonCodec);
      const tail = record.subarray(0, bytes);
      const before = fs.readFileSync(path);
      const torn = new Uint8Array(before.byteLength + bytes);
      torn.set(before);
      torn.set(tail, before.byteLength);
      fs.writeFileSync(path, torn);
      const { wal, healed } = await Wal.open("/w", { fs, codec: jsonCodec });
      await wal.close();
      const cut = healed.find((h) => h.kind === "tornTailTruncated");
      expect(cut).toMatchObject({ droppedBytes: bytes, brokenCopy: `${path}.${before.byteLength}.broken` });
      expect(Buffer.from(fs.readFileSync(`${path}.${before.byteLength}.broken`)).equals(Buffer.from(tail))).toBe(true);
    });
  }
});
