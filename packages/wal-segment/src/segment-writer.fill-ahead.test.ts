/**
 * A preallocating writer zero-fills the next stretch on the thread pool before its records need it, so writes on
 * the event loop carry only records. The fill runs beside the writes, so two rules keep it safe: records are never
 * written where the fill's zeros could still land, and nothing cuts the file (seal, truncate, close) while the fill
 * could still land past the cut.
 */

import { bytesCodec, WalError, type WalRecord } from "@lora/wal-codec";
import { describe, expect, it } from "vitest";
import type { WalFile } from "./fs/file-system.js";
import { SegmentReader } from "./segment-reader.js";
import { SegmentWriter } from "./segment-writer.js";
import { SimFS } from "./testing/sim-fs.js";
import { boundProperty, wrapFileSystem } from "./testing/wrapped-fs.js";

const PATH = "/w/0000000001.wal";
const AHEAD = 64 * 1024;

/** A zero-fill: a write of at least a page of zeros (records never are: every header has a non-zero length). */
function isFill(data: Uint8Array): boolean {
  return data.byteLength >= 4096 && data.every((b) => b === 0);
}

/**
 * SimFS behind a seam that holds every asynchronous zero-fill until `release()` (or fails it with `failFills`),
 * and counts the zero-fills written synchronously, on the caller's thread.
 */
function gatedFills(inner: SimFS) {
  const held: (() => void)[] = [];
  const state = { hold: false, failFills: false, syncFills: 0, asyncFills: 0 };
  const wrap = (file: WalFile): WalFile =>
    new Proxy(file, {
      get(target, key) {
        if (key === "write") {
          return async (data: Uint8Array, position: number) => {
            if (!isFill(data)) return target.write(data, position);
            state.asyncFills++;
            const copy = data.slice();
            if (state.hold) await new Promise<void>((resolve) => held.push(resolve));
            if (state.failFills) throw new WalError("WAL_IO", "injected fill failure", { details: { errno: "EIO" } });
            return target.write(copy, position);
          };
        }
        if (key === "writeSync" && target.writeSync !== undefined) {
          const writeSync = target.writeSync.bind(target);
          return (data: Uint8Array, position: number) => {
            if (isFill(data)) state.syncFills++;
            writeSync(data, position);
          };
        }
        return boundProperty(target, key);
      },
    });
  const fs = wrapFileSystem(inner, wrap);
  const release = (): void => {
    state.hold = false;
    for (const go of held.splice(0)) go();
  };
  return { fs, state, release, heldCount: () => held.length };
}

async function setup() {
  const sim = new SimFS();
  sim.mkdirpSync("/w");
  const gate = gatedFills(sim);
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
async function readBack(sim: SimFS): Promise<{ lsns: number[]; end: string }> {
  const reader = await SegmentReader.open(sim, PATH);
  const lsns: number[] = [];
  try {
    for (;;) {
      const step = await reader.next(bytesCodec);
      if (step.kind !== "record") return { lsns, end: step.kind };
      lsns.push(step.record.lsn);
    }
  } finally {
    await reader.close();
  }
}

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
    expect(gate.state.syncFills).toBe(1);
    expect(gate.state.asyncFills).toBeGreaterThanOrEqual(2);
    await writer.flush();
    const { lsns, end } = await readBack(sim);
    expect(lsns.at(-1)).toBe(last);
    expect(end).toBe("end");
    await writer.close();
  });

  it("never writes records where a fill still on its way could land over them", async () => {
    nextLsn = 1;
    const { sim, gate, writer } = await setup();
    gate.state.hold = true;
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
    expect(gate.heldCount()).toBe(1);
    // The asynchronous write waits for the fill instead of writing past the zeros.
    let written = false;
    const write = writer.write().then(() => {
      written = true;
    });
    for (let i = 0; i < 5; i++) await turn();
    expect(written).toBe(false);
    gate.release();
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
      gate.state.hold = true;
      // Written on the caller's thread, so the first fill (needed at once) is too; the next one runs ahead.
      while (gate.heldCount() === 0) {
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
      gate.release();
      await cutting;
      expect(sim.readFileSync(PATH).byteLength).toBe(end);
      if (cut !== "close") await writer.close();
    });
  }

  it("a fill that fails fails the write that waited for it", async () => {
    nextLsn = 1;
    const { gate, writer } = await setup();
    gate.state.hold = true;
    gate.state.failFills = true;
    while (gate.heldCount() === 0) {
      appendTransaction(writer);
      expect(writer.writeNow()).toBe(true);
    }
    // Past the zeros the fill under way is making: the write waits for it, and the fill fails.
    appendTransaction(writer, 40 * 1024);
    const write = writer.write();
    await turn();
    gate.release();
    await expect(write).rejects.toMatchObject({ code: "WAL_IO", message: /injected fill failure/ });
    await expect(writer.sync()).rejects.toMatchObject({ code: "WAL_IO" });
    await writer.discardAndClose();
  });

  it("a fill that fails fails the next write, as a failed write does", async () => {
    nextLsn = 1;
    const { gate, writer } = await setup();
    gate.state.failFills = true;
    while (gate.state.asyncFills === 0) {
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
