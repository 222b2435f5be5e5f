/**
 * Group commit: concurrent `commitTx` calls share fsyncs, records land in LSN order, writes never interleave, and
 * each caller resolves only after an fdatasync that began after its bytes were written.
 */

import { bytesCodec, decodeRecord } from "@lora/wal-codec";
import type { OpenMode, WalFile } from "@lora/wal-segment";
import { SimFS } from "@lora/wal-segment/testing";
import { describe, expect, it } from "vitest";
import { PassThroughFs } from "../test/pass-through-fs.js";
import { useTempDirs } from "../test/support.js";
import { Wal } from "./wal.js";

const tempDir = useTempDirs();

interface Span {
  start: number;
  end: number;
}
interface WriteSpan extends Span {
  position: number;
  length: number;
}

/** A file system that records when each write and datasync of segment files started and ended. */
class TracingFs extends PassThroughFs {
  seq = 0;
  writes: WriteSpan[] = [];
  syncs: Span[] = [];
  concurrentWrites = 0;
  maxConcurrentWrites = 0;
  override async open(path: string, mode: OpenMode): Promise<WalFile> {
    const file = await this.inner.open(path, mode);
    const trace = this;
    return {
      path: file.path,
      read: (b, o, l, p) => file.read(b, o, l, p),
      async write(data, position) {
        const span = { start: ++trace.seq, end: 0, position, length: data.byteLength };
        trace.concurrentWrites++;
        trace.maxConcurrentWrites = Math.max(trace.maxConcurrentWrites, trace.concurrentWrites);
        await new Promise((r) => setImmediate(r)); // make writes take time so overlap would show
        await file.write(data, position);
        trace.concurrentWrites--;
        span.end = ++trace.seq;
        // A zero-fill ahead of the records (no record starts with a zero byte) is not one of the pipeline's writes.
        if (path.endsWith(".wal") && !data.every((b) => b === 0)) trace.writes.push(span);
      },
      async datasync() {
        const span = { start: ++trace.seq, end: 0 };
        await new Promise((r) => setImmediate(r));
        await file.datasync();
        span.end = ++trace.seq;
        if (path.endsWith(".wal")) trace.syncs.push(span);
      },
      sync: () => file.sync(),
      truncate: (n) => file.truncate(n),
      size: () => file.size(),
      close: () => file.close(),
    };
  }
}

describe("group commit", () => {
  it("each caller resolves only after an fdatasync that began after its bytes were written", async () => {
    const sim = new SimFS();
    sim.mkdirpSync("/w");
    const fs = new TracingFs(sim);
    const { wal } = await Wal.open("/w", { fs, codec: bytesCodec });
    const N = 64;
    const resolvedAt = new Map<number, number>();
    const infos = await Promise.all(
      Array.from({ length: N }, async (_, i) => {
        const info = await wal.commitTx([new Uint8Array(100).fill(i)]);
        if (info === null) throw new Error("unexpected empty commit");
        resolvedAt.set(info.commitLsn, ++fs.seq);
        return info;
      }),
    );
    await wal.close();

    // Where each commit record ends in the segment file.
    const bytes = sim.readFileSync("/w/0000000001.wal");
    const commitEnd = new Map<number, number>();
    for (let at = 32; at < bytes.byteLength; ) {
      const r = decodeRecord(bytes, at, bytesCodec);
      if (r.kind !== "record") throw new Error(`bad record at ${at}`);
      at += r.byteLength;
      if (r.record.kind === "txCommit") commitEnd.set(r.record.lsn, at);
    }
    // LSN order on disk and every commit accounted for.
    expect([...commitEnd.keys()]).toEqual(infos.map((i) => i.commitLsn).sort((a, b) => a - b));
    for (const { commitLsn } of infos) {
      const end = commitEnd.get(commitLsn) as number;
      const write = fs.writes.find((w) => w.position < end && end <= w.position + w.length);
      expect(write, `write holding lsn ${commitLsn}`).toBeDefined();
      const resolved = resolvedAt.get(commitLsn) as number;
      const covering = fs.syncs.find((s) => s.start > (write as WriteSpan).end && s.end < resolved);
      expect(covering, `an fsync after the write of lsn ${commitLsn} and before its acknowledgement`).toBeDefined();
    }
    expect(fs.maxConcurrentWrites).toBe(1);
    // Writes never overlap in the file and follow each other.
    const sorted = [...fs.writes].sort((a, b) => a.start - b.start);
    for (let i = 1; i < sorted.length; i++) {
      const prev = sorted[i - 1] as WriteSpan;
      const cur = sorted[i] as WriteSpan;
      if (prev.position > 0 && cur.position > 0) expect(cur.position).toBe(prev.position + prev.length);
    }
    // Shared fsyncs: far fewer than one per commit.
    expect(fs.syncs.length).toBeLessThan(N / 4);
  });

  it("N concurrent writers on the real file system: every acknowledged commit survives a reopen, fsyncs shared", async () => {
    const dir = await tempDir();
    const { wal } = await Wal.open(dir, { codec: bytesCodec });
    const N = 200;
    const writers = 50;
    const acked: number[] = [];
    await Promise.all(
      Array.from({ length: writers }, async (_, w) => {
        for (let i = w; i < N; i += writers) {
          const info = await wal.commitTx([new Uint8Array([i & 0xff, i >> 8])]);
          if (info !== null) acked.push(i);
        }
      }),
    );
    const { syncs } = wal.ioStats();
    await wal.close();
    expect(acked).toHaveLength(N);
    expect(syncs).toBeLessThan(N / 2);
    const { wal: again, events } = await Wal.open(dir, { codec: bytesCodec });
    const seen = events.map((e) => (e[0] as number) | ((e[1] as number) << 8)).sort((a, b) => a - b);
    expect(seen).toEqual([...acked].sort((a, b) => a - b));
    await again.close();
  });

  it("fsyncs are counted through the seam: 64 concurrent commits on SimFS take a handful of datasyncs", async () => {
    const fs = new SimFS();
    fs.mkdirpSync("/w");
    const { wal } = await Wal.open("/w", { fs, codec: bytesCodec });
    const before = fs.stats.datasyncs;
    await Promise.all(Array.from({ length: 64 }, (_, i) => wal.commitTx([new Uint8Array([i])])));
    const used = fs.stats.datasyncs - before;
    expect(used).toBeGreaterThanOrEqual(1);
    expect(used).toBeLessThan(8);
    await wal.close();
    // Everything acknowledged is in what survives power loss.
    const { events, wal: again } = await Wal.open("/w", { fs: fs.durableImage(), codec: bytesCodec });
    expect(events).toHaveLength(64);
    await again.close();
  });

  it("awaited commits one after another never strand a request between two pipeline loops", async () => {
    // Regression: a request made while a loop was finishing (after its last check, before its cleanup) found the
    // loop still marked running, started none, and waited forever. Each mode, real file system, synchronous writes.
    for (const syncMode of ["none", "perCommit", { mode: "group", intervalMs: 60_000 }] as const) {
      const dir = await tempDir();
      const { wal } = await Wal.open(dir, { codec: bytesCodec, syncMode });
      for (let i = 0; i < 300; i++) await wal.commitTx([new Uint8Array([i & 0xff])]);
      await wal.sync();
      await wal.close();
      const { events, wal: again } = await Wal.open(dir, { codec: bytesCodec });
      expect(events).toHaveLength(300);
      await again.close();
    }
  });

  it("none and group modes: a lone commit is written before commitTx returns; a turn's other commits share a write", async () => {
    for (const syncMode of ["none", { mode: "group", intervalMs: 60_000 }] as const) {
      const fs = new SimFS();
      fs.mkdirpSync("/w");
      // Counts the pipeline's writes: no zero-fill ahead of the records among them.
      const { wal } = await Wal.open("/w", { fs, codec: bytesCodec, syncMode, preallocateBytes: 0 });
      const path = "/w/0000000001.wal";
      const sizeBefore = fs.readFileSync(path).byteLength;
      const writesBefore = fs.stats.writes;
      const lone = wal.commitTx([new Uint8Array([1])]);
      // Written in the caller's turn: the bytes are in the file before anything else runs.
      expect(fs.stats.writes).toBe(writesBefore + 1);
      expect(fs.readFileSync(path).byteLength).toBeGreaterThan(sizeBefore);
      await lone;
      // 64 commits issued in one turn: the first is written at once, the other 63 share one run's write.
      const turnStart = fs.stats.writes;
      const infos = await Promise.all(Array.from({ length: 64 }, (_, i) => wal.commitTx([new Uint8Array([i])])));
      expect(fs.stats.writes - turnStart).toBe(2);
      expect(infos.map((x) => x?.commitLsn)).toEqual(Array.from({ length: 64 }, (_, i) => 6 + 3 * i));
      await wal.close();
      const { events, wal: again } = await Wal.open("/w", { fs, codec: bytesCodec });
      expect(events).toHaveLength(65);
      await again.close();
    }
  });

  it("none mode: a failed write-through rejects the commit and poisons the handle", async () => {
    const fs = new SimFS();
    fs.mkdirpSync("/w");
    const { wal } = await Wal.open("/w", { fs, codec: bytesCodec, syncMode: "none" });
    await wal.commitTx([new Uint8Array([1])]);
    fs.injectFault({ op: "write", errno: "EIO", path: "/w/0000000001.wal" });
    await expect(wal.commitTx([new Uint8Array([2])])).rejects.toMatchObject({ code: "WAL_IO" });
    await expect(wal.commitTx([new Uint8Array([3])])).rejects.toMatchObject({ code: "WAL_POISONED" });
    await wal.close().catch(() => undefined);
    const { events, wal: again } = await Wal.open("/w", { fs, codec: bytesCodec });
    expect(events).toHaveLength(1);
    await again.close();
  });

  it("group and none modes acknowledge after the write; whenDurable waits for an fsync", async () => {
    for (const syncMode of ["none", { mode: "group", intervalMs: 60_000 }] as const) {
      const fs = new SimFS();
      fs.mkdirpSync("/w");
      const { wal } = await Wal.open("/w", { fs, codec: bytesCodec, syncMode });
      const base = fs.stats.datasyncs;
      const info = await wal.commitTx([new Uint8Array([1])]);
      expect(fs.stats.datasyncs).toBe(base);
      expect(fs.readFileSync("/w/0000000001.wal").byteLength).toBeGreaterThan(32);
      expect(fs.durableImage().readFileSync("/w/0000000001.wal").byteLength).toBe(32);
      if (syncMode === "none") {
        expect(wal.durableLsn()).toBe(info?.commitLsn);
        await wal.whenDurable(info?.commitLsn ?? 0);
        expect(fs.stats.datasyncs).toBe(base + 1);
      } else {
        expect(wal.durableLsn()).toBe(0);
        const durable = wal.whenDurable(info?.commitLsn ?? 0);
        await wal.sync();
        await durable;
      }
      expect(fs.durableImage().readFileSync("/w/0000000001.wal").byteLength).toBeGreaterThan(32);
      await wal.close();
    }
  });
});
