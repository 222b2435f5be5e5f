/**
 * A preallocating writer zero-fills the next stretch on the thread pool before its records need it, so writes on
 * the event loop carry only records. The fill runs beside the writes, so two rules keep it safe: records are never
 * written where the fill's zeros could still land, and nothing cuts the file (seal, truncate, close) while the fill
 * could still land past the cut.
 */

import { bytesCodec, WalError, type WalRecord } from "@lora/wal-codec";
import { describe, expect, it } from "vitest";
import { SegmentWriter } from "./segment-writer.js";
import { heldFileOps } from "./test-support/held-file-ops.js";
import { segmentLsns } from "./test-support/segment-lsns.js";
import { SimFS } from "./testing/sim-fs.js";

const PATH = "/w/0000000001.wal";
const AHEAD = 64 * 1024;

async function setup() {
  const sim = new SimFS();
  sim.mkdirpSync("/w");
  // Every asynchronous zero-fill can be held (or failed); the fills written on the caller's thread are counted.
  const gate = heldFileOps(sim);
  const writer = await SegmentWriter.create(gate.fs, PATH, 1, { preallocateBytes: AHEAD });
  return { sim, gate, writer };
}

let nextLsn = 1;
function appendTransaction(writer: SegmentWriter, bytes = 200): number {
  const begin = nextLsn;
  const records: WalRecord<Uint8Array>[] = [
    { kind: "txBegin", lsn: begin },
    { kind: "mutation", lsn: begin + 1, txBeginLsn: begin, event: new Uint8Array(bytes).fill(begin & 0xff) },
    { kind: "txCommit", lsn: begin + 2, txBeginLsn: begin },
  ];
  for (const r of records) writer.append(r, bytesCodec);
  nextLsn += 3;
  return begin + 2;
}

/** Every LSN a fresh reader finds, and how its reading ended. */
const readBack = (sim: SimFS) => segmentLsns(sim, PATH);

const turn = () => new Promise<void>((resolve) => setImmediate(resolve));

describe("SegmentWriter fills zeros ahead on the thread pool", () => {
  it("writes on the caller's thread carry only records once the fill keeps ahead", async () => {
    nextLsn = 1;
    const { sim, gate, writer } = await setup();
    let last = 0;
    for (let i = 0; i < 600; i++) {
      last = appendTransaction(writer);
      expect(writer.writeNow()).toBe(true);
      await turn();
    }
    // ~600 × 290 bytes is ~170 KiB, about three stretches of 64 KiB: only the first one on the caller's thread.
    expect(gate.called("syncFill")).toBe(1);
    expect(gate.called("fill")).toBeGreaterThanOrEqual(2);
    await writer.flush();
    const { lsns, end } = await readBack(sim);
    expect(lsns.at(-1)).toBe(last);
    expect(end).toBe("end");
    await writer.close();
  });

  it("never writes records where a fill still on its way could land over them", async () => {
    nextLsn = 1;
    const { sim, gate, writer } = await setup();
    gate.hold("fill");
    let last = 0;
    let refused = false;
    // Write on the caller's thread until the writer says it cannot: the held fill stands in the way.
    for (let i = 0; i < 2000 && !refused; i++) {
      last = appendTransaction(writer);
      if (writer.canWriteNow) expect(writer.writeNow()).toBe(true);
      else {
        refused = true;
        expect(writer.writeNow()).toBe(false);
      }
    }
    expect(refused).toBe(true);
    expect(gate.heldCount("fill")).toBe(1);
    // The asynchronous write waits for the fill instead of writing past the zeros.
    let written = false;
    const write = writer.write().then(() => {
      written = true;
    });
    for (let i = 0; i < 5; i++) await turn();
    expect(written).toBe(false);
    gate.release("fill");
    await write;
    await writer.flush();
    const { lsns, end } = await readBack(sim);
    expect(lsns).toHaveLength(last);
    expect(lsns.at(-1)).toBe(last);
    expect(end).toBe("end");
    await writer.close();
  });

  for (const cut of ["seal", "close", "truncateTo"] as const) {
    it(`${cut} waits for a fill on its way, so its zeros cannot land past the cut`, async () => {
      nextLsn = 1;
      const { sim, gate, writer } = await setup();
      gate.hold("fill");
      // Written on the caller's thread, so the first fill (needed at once) is too; the next one runs ahead.
      while (gate.heldCount("fill") === 0) {
        appendTransaction(writer);
        expect(writer.writeNow()).toBe(true);
      }
      await writer.sync();
      const end = writer.writtenBytes;
      let done = false;
      const cutting = (cut === "seal" ? writer.seal() : cut === "close" ? writer.close() : writer.truncateTo(end)).then(
        () => {
          done = true;
        },
      );
      for (let i = 0; i < 5; i++) await turn();
      expect(done).toBe(false);
      gate.release("fill");
      await cutting;
      expect(sim.readFileSync(PATH).byteLength).toBe(end);
      if (cut !== "close") await writer.close();
    });
  }

  it("a seal's write past the zeros waits for the fill on its way, though the seal fills nothing itself", async () => {
    nextLsn = 1;
    const { sim, gate, writer } = await setup();
    gate.hold("fill");
    while (gate.heldCount("fill") === 0) {
      appendTransaction(writer);
      expect(writer.writeNow()).toBe(true);
    }
    // The held fill has not reached the file: its length is where the zeros end now. One transaction ending 100
    // bytes past them (a seal's writes are not filled ahead of, so only the fill on its way could zero those bytes).
    const zeroedEnd = sim.readFileSync(PATH).byteLength;
    const last = appendTransaction(writer, zeroedEnd + 100 - writer.writtenBytes - 3 * 25);
    const sealing = writer.seal();
    for (let i = 0; i < 5; i++) await turn();
    expect(sim.readFileSync(PATH).byteLength).toBe(zeroedEnd); // nothing written past the zeros yet
    gate.release("fill");
    await sealing;
    const { lsns, end } = await readBack(sim);
    expect(lsns).toHaveLength(last);
    expect(lsns.at(-1)).toBe(last);
    expect(end).toBe("end");
    await writer.close();
  });

  it("a fill that fails fails the write that waited for it", async () => {
    nextLsn = 1;
    const { gate, writer } = await setup();
    gate.hold("fill");
    gate.failing("fill", () => new WalError("WAL_IO", "injected fill failure", { details: { errno: "EIO" } }));
    while (gate.heldCount("fill") === 0) {
      appendTransaction(writer);
      expect(writer.writeNow()).toBe(true);
    }
    // Past the zeros the fill under way is making: the write waits for it, and the fill fails.
    appendTransaction(writer, 40 * 1024);
    const write = writer.write();
    await turn();
    gate.release("fill");
    await expect(write).rejects.toMatchObject({ code: "WAL_IO", message: /injected fill failure/ });
    await expect(writer.sync()).rejects.toMatchObject({ code: "WAL_IO" });
    await writer.discardAndClose();
  });

  it("a fill that fails fails the next write, as a failed write does", async () => {
    nextLsn = 1;
    const { gate, writer } = await setup();
    gate.failing("fill", () => new WalError("WAL_IO", "injected fill failure", { details: { errno: "EIO" } }));
    while (gate.called("fill") === 0) {
      appendTransaction(writer);
      expect(writer.writeNow()).toBe(true);
    }
    await turn();
    appendTransaction(writer);
    await expect(writer.write()).rejects.toMatchObject({ code: "WAL_IO", message: /injected fill failure/ });
    await expect(writer.sync()).rejects.toMatchObject({ code: "WAL_IO" });
    await writer.discardAndClose();
  });
});
