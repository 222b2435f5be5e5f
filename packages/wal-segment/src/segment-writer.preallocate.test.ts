/**
 * A preallocating writer zero-fills ahead of its records; every reader takes the zero tail of an unsealed segment
 * for the end, sealing and a clean close cut it off, and a crash anywhere leaves a segment that reads as a prefix
 * of what was written (a torn record at worst), never as records after a gap.
 */

import { bytesCodec, type WalRecord } from "@lora/wal-codec";
import { describe, expect, it } from "vitest";
import { encodeSegmentHeader } from "./segment-header.js";
import { type ReadStep, SegmentReader } from "./segment-reader.js";
import { SegmentWriter } from "./segment-writer.js";
import { SimFS } from "./testing/sim-fs.js";
import { MAX_PREALLOCATE_BYTES } from "./zero-tail.js";

const PATH = "/w/0000000001.wal";
const AHEAD = 64 * 1024;

function transaction(begin: number, bytes = 1): WalRecord<Uint8Array>[] {
  return [
    { kind: "txBegin", lsn: begin },
    { kind: "mutation", lsn: begin + 1, txBeginLsn: begin, event: new Uint8Array(bytes).fill(begin & 0xff) },
    { kind: "txCommit", lsn: begin + 2, txBeginLsn: begin },
  ];
}

async function created(preallocateBytes = AHEAD): Promise<{ fs: SimFS; writer: SegmentWriter }> {
  const fs = new SimFS();
  fs.mkdirpSync("/w");
  return { fs, writer: await SegmentWriter.create(fs, PATH, 1, { preallocateBytes }) };
}

async function commit(writer: SegmentWriter, begin: number, bytes = 1): Promise<void> {
  for (const r of transaction(begin, bytes)) writer.append(r, bytesCodec);
  await writer.flush();
}

/** Every record up to the first step that is not one, and that step. */
async function readAll(reader: SegmentReader): Promise<{ lsns: number[]; last: ReadStep<Uint8Array> }> {
  const lsns: number[] = [];
  for (;;) {
    const step = await reader.next(bytesCodec);
    if (step.kind !== "record") return { lsns, last: step };
    lsns.push(step.record.lsn);
  }
}

async function read(fs: SimFS): Promise<{ lsns: number[]; last: ReadStep<Uint8Array>; position: number }> {
  const reader = await SegmentReader.open(fs, PATH);
  try {
    return { ...(await readAll(reader)), position: reader.position };
  } finally {
    await reader.close();
  }
}

describe("SegmentWriter with preallocateBytes", () => {
  it("zero-fills whole pages ahead of its records, and the reader ends where the records do", async () => {
    const { fs, writer } = await created();
    await commit(writer, 1);
    const size = fs.readFileSync(PATH).byteLength;
    expect(size).toBeGreaterThanOrEqual(writer.writtenBytes + AHEAD);
    expect(size % 4096).toBe(0);
    expect(
      fs
        .readFileSync(PATH)
        .subarray(writer.writtenBytes)
        .every((b) => b === 0),
    ).toBe(true);
    const { lsns, last, position } = await read(fs);
    expect(lsns).toEqual([1, 2, 3]);
    expect(last.kind).toBe("end");
    expect(position).toBe(writer.writtenBytes);
    await writer.close();
  });

  it("rounds preallocateBytes up to whole pages: one byte asks for a page of zeros", async () => {
    for (const [asked, page] of [
      [1, 4096],
      [4096, 4096],
      [4097, 8192],
    ] as const) {
      const { fs, writer } = await created(asked);
      await commit(writer, 1);
      const size = fs.readFileSync(PATH).byteLength;
      // The records take the first page; the zeros reach `page` bytes past their end, rounded to a page boundary.
      expect(size, `preallocateBytes ${asked}`).toBe(Math.ceil((writer.writtenBytes + page) / 4096) * 4096);
      await writer.close();
    }
  });

  it("fills again only when the records reach past the zeros, so most writes leave the size alone", async () => {
    const { fs, writer } = await created();
    const sizes = new Set<number>();
    for (let i = 0; i < 400; i++) {
      await commit(writer, 1 + 3 * i, 200);
      sizes.add(fs.readFileSync(PATH).byteLength);
    }
    // 400 commits of ~300 bytes are ~120 KiB: two or three fills of 64 KiB, not one size per commit.
    expect(sizes.size).toBeLessThanOrEqual(3);
    expect((await read(fs)).lsns).toHaveLength(1200);
    await writer.close();
  });

  it("does not zero-fill ahead of a write of half the fill size or more, and fills again after smaller ones", async () => {
    const { fs, writer } = await created();
    const size = (): number => fs.readFileSync(PATH).byteLength;
    await commit(writer, 1);
    expect(size()).toBeGreaterThanOrEqual(writer.writtenBytes + AHEAD);
    // Two bulk writes of ~40 KiB each (AHEAD / 2 is 32 KiB): the second reaches past the zeros and lengthens the
    // file by its own bytes only, with no fill behind it, in the foreground or on the thread pool.
    for (let lsn = 4; lsn < 10; lsn += 3) await commit(writer, lsn, 40 * 1024);
    await writer.flush();
    expect(size()).toBe(writer.writtenBytes);
    // A small write past the records' end fills ahead again.
    await commit(writer, 10);
    expect(size()).toBeGreaterThanOrEqual(writer.writtenBytes + AHEAD);
    const { lsns, last } = await read(fs);
    expect(lsns).toEqual(Array.from({ length: 12 }, (_, i) => i + 1));
    expect(last.kind).toBe("end");
    await writer.close();
  });

  it("counts a bulk write whole when the unsynced window cuts it in pieces smaller than half the fill", async () => {
    const fs = new SimFS();
    fs.mkdirpSync("/w");
    const writer = await SegmentWriter.create(fs, PATH, 1, { preallocateBytes: AHEAD, maxUnsyncedBytes: 40 * 1024 });
    await commit(writer, 1, 100 * 1024);
    expect(fs.readFileSync(PATH).byteLength).toBe(writer.writtenBytes);
    expect((await read(fs)).lsns).toEqual([1, 2, 3]);
    await writer.close();
  });

  it("seal cuts the zeros off durably before the sealed header, and the sealed segment reads to its end", async () => {
    const { fs, writer } = await created();
    await commit(writer, 1);
    await writer.seal();
    expect(fs.durableImage().readFileSync(PATH).byteLength).toBe(writer.writtenBytes);
    const { lsns, last } = await read(fs);
    expect(lsns).toEqual([1, 2, 3]);
    expect(last.kind).toBe("end");
    await writer.close();
  });

  it("a seal makes its cut durable before the sealed header, and a crash at any step leaves the records ending cleanly", async () => {
    const { fs, writer } = await created();
    await commit(writer, 1);
    const images: { step: string; fs: SimFS }[] = [];
    // A disk may write the header back before a size change it does not wait for: the cut must be durable first.
    const durableSizeAtWrites: number[] = [];
    const stop = fs.onOperation((event) => {
      if (event.op === "write") durableSizeAtWrites.push(fs.durableImage().readFileSync(PATH).byteLength);
      for (const image of fs.crashImages({ maxImages: 64 })) {
        images.push({ step: `after ${event.op} #${event.seq}: ${image.description}`, fs: image.fs });
      }
    });
    await writer.seal();
    stop();
    expect(durableSizeAtWrites).toEqual([writer.writtenBytes]); // the sealed header's write
    expect(images.length).toBeGreaterThan(4);
    for (const image of images) {
      const { lsns, last } = await read(image.fs);
      expect(lsns, image.step).toEqual([1, 2, 3]);
      expect(last.kind, image.step).toBe("end");
    }
    await writer.close();
  });

  it("a reader that measured the file before a seal cut its zeros off reads to the records' end, not forever", async () => {
    const { fs, writer } = await created();
    await commit(writer, 1);
    const reader = await SegmentReader.open(fs, PATH, { chunkBytes: 64 });
    await commit(writer, 4);
    await writer.seal();
    const { lsns, last } = await readAll(reader);
    expect(lsns).toEqual([1, 2, 3, 4, 5, 6]);
    expect(last.kind).toBe("end");
    expect((await reader.refresh()).sealed).toBe(true);
    await reader.close();
    await writer.close();
  });

  it("a clean close cuts the zeros off; discardAndClose leaves the file alone", async () => {
    const a = await created();
    await commit(a.writer, 1);
    await a.writer.close();
    expect(a.fs.readFileSync(PATH).byteLength).toBe(a.writer.writtenBytes);

    const b = await created();
    await commit(b.writer, 1);
    await b.writer.discardAndClose();
    expect(b.fs.readFileSync(PATH).byteLength).toBeGreaterThan(b.writer.writtenBytes);
    expect((await read(b.fs)).last.kind).toBe("end");
  });

  it("openForAppend writes into a zero tail, and the records follow on with no gap", async () => {
    const { fs, writer } = await created();
    await commit(writer, 1);
    const end = writer.writtenBytes;
    await writer.discardAndClose();
    const again = await SegmentWriter.openForAppend(fs, PATH, end, { preallocateBytes: AHEAD });
    await commit(again, 4);
    expect((await read(fs)).lsns).toEqual([1, 2, 3, 4, 5, 6]);
    await again.close();
  });

  it("openForAppend before bytes that are not zeros fills over them, so the records still end in zeros", async () => {
    const { fs, writer } = await created();
    await commit(writer, 1);
    const end = writer.writtenBytes;
    await writer.close();
    // 3000 bytes that are not zeros past the records (what a torn write leaves), longer than the records to come.
    const file = new Uint8Array(end + 3000).fill(0xab);
    file.set(fs.readFileSync(PATH).subarray(0, end));
    fs.writeFileSync(PATH, file);
    const again = await SegmentWriter.openForAppend(fs, PATH, end, { preallocateBytes: AHEAD });
    await commit(again, 4);
    expect(again.writtenBytes).toBeLessThan(end + 3000);
    expect(
      fs
        .readFileSync(PATH)
        .subarray(again.writtenBytes)
        .every((b) => b === 0),
    ).toBe(true);
    const { lsns, last } = await read(fs);
    expect(lsns).toEqual([1, 2, 3, 4, 5, 6]);
    expect(last.kind).toBe("end");
    await again.close();
  });

  it("a zero tail in a sealed segment is damage, and so is a non-zero byte anywhere in the tail", async () => {
    const { fs, writer } = await created();
    await commit(writer, 1);
    const end = writer.writtenBytes;
    await writer.discardAndClose();
    const bytes = fs.readFileSync(PATH);

    const stray = bytes.slice();
    stray[stray.byteLength - 1] = 1;
    fs.writeFileSync(PATH, stray, { durable: true });
    const strayed = await read(fs);
    expect(strayed.lsns).toEqual([1, 2, 3]);
    expect(strayed.last).toMatchObject({ kind: "damaged", offset: end });

    const sealed = bytes.slice();
    sealed.set(encodeSegmentHeader({ baseLsn: 1, sealed: true }), 0);
    fs.writeFileSync(PATH, sealed, { durable: true });
    const sealedRead = await read(fs);
    expect(sealedRead.lsns).toEqual([1, 2, 3]);
    expect(sealedRead.last).toMatchObject({ kind: "damaged", offset: end });
  });

  it("a reader at the zero tail sees records written into it after a refresh, round after round", async () => {
    const { fs, writer } = await created();
    await commit(writer, 1);
    const reader = await SegmentReader.open(fs, PATH);
    const seen: number[] = [];
    for (let round = 0; round < 50; round++) {
      const { lsns, last } = await readAll(reader);
      seen.push(...lsns);
      expect(last.kind).toBe("end");
      await commit(writer, 4 + 3 * round, 1 + round * 97);
      await reader.refresh();
    }
    seen.push(...(await readAll(reader)).lsns);
    expect(seen).toEqual(Array.from({ length: 153 }, (_, i) => i + 1));
    await reader.close();
    await writer.close();
  });

  it("a fill that fails fails the write like any failed write, and leaves the records before it readable", async () => {
    const { fs, writer } = await created();
    await commit(writer, 1);
    // A bulk write lengthens the file past the zeros without a fill; the next small write starts with one, which
    // fails with 4 KiB of zeros landed.
    await commit(writer, 4, 2 * AHEAD);
    const fault = fs.injectFault({ op: "write", path: PATH, errno: "ENOSPC", skip: 0, partialBytes: 4096 });
    await expect(commit(writer, 7)).rejects.toMatchObject({ code: "WAL_IO", details: { errno: "ENOSPC" } });
    expect(fault.hits).toBe(1);
    // Nothing is retried over it: every later write refuses with the first failure.
    for (const r of transaction(10)) writer.append(r, bytesCodec);
    await expect(writer.write()).rejects.toMatchObject({ details: { errno: "ENOSPC" } });
    const { lsns, last } = await read(fs);
    expect(lsns).toEqual([1, 2, 3, 4, 5, 6]);
    expect(last.kind).toBe("end");
    await writer.discardAndClose();
  });

  it("every crash image of a preallocating writer reads as a prefix of the records, ending cleanly or torn", async () => {
    const { fs, writer } = await created(8192);
    await commit(writer, 1);
    for (let i = 1; i < 6; i++) {
      for (const r of transaction(1 + 3 * i, 3000)) writer.append(r, bytesCodec);
      await writer.write();
    }
    let images = 0;
    for (const image of fs.crashImages({ maxImages: 200 })) {
      images++;
      const { lsns, last } = await read(image.fs);
      // The fsynced transaction survives; what follows is a prefix of what was written.
      expect(lsns.slice(0, 3), image.description).toEqual([1, 2, 3]);
      expect(lsns, image.description).toEqual(Array.from({ length: lsns.length }, (_, i) => i + 1));
      if (last.kind === "damaged") expect(last.frameValid, image.description).toBe(false);
    }
    expect(images).toBeGreaterThan(10);
    await writer.discardAndClose();
  });

  it("refuses a bad preallocateBytes before it creates anything", async () => {
    const fs = new SimFS();
    fs.mkdirpSync("/w");
    await expect(SegmentWriter.create(fs, PATH, 1, { preallocateBytes: -1 })).rejects.toMatchObject({
      code: "WAL_INVALID_OPTION",
    });
    expect(fs.listSync("/w")).toEqual([]);
  });

  it("refuses a preallocateBytes above the most one fill can write, before it creates anything", async () => {
    const fs = new SimFS();
    fs.mkdirpSync("/w");
    // 2 GiB: Node refuses a write that long, so every commit would fail; 4 GiB: the zeros could not be allocated.
    for (const preallocateBytes of [MAX_PREALLOCATE_BYTES + 1, 2 ** 31, 2 ** 32]) {
      await expect(SegmentWriter.create(fs, PATH, 1, { preallocateBytes })).rejects.toMatchObject({
        code: "WAL_INVALID_OPTION",
      });
    }
    expect(fs.listSync("/w")).toEqual([]);
  });
});
