/** Tier D's parser, models and static checks on a hand-written trace (no strace needed). */

import { describe, expect, it } from "vitest";
import { crashStatesAt, materialise, staticCheck } from "./trace-model.js";
import { parseTrace } from "./trace-parse.js";

const hex = (s: string | Uint8Array) =>
  `"${[...(typeof s === "string" ? Buffer.from(s) : s)].map((b) => `\\x${b.toString(16).padStart(2, "0")}`).join("")}"`;

/** A segment created (dir fsync), a 600-byte record written by a pool thread (unfinished/resumed), fdatasync, ack. */
function trace(opts: { dirSync: boolean; datasync: boolean }): string {
  const rec = new Uint8Array(600).fill(7);
  const lines = [
    `10 1.0 mkdir(${hex("/r/wal")}, 0777) = 0`,
    `10 1.1 openat(AT_FDCWD, ${hex("/r/acks")}, O_WRONLY|O_CREAT|O_APPEND|O_CLOEXEC, 0666) = 5`,
    `11 1.2 openat(AT_FDCWD, ${hex("/r/wal/1.wal")}, O_RDWR|O_CREAT|O_EXCL|O_CLOEXEC, 0666) = 21`,
    `11 1.3 pwrite64(21, ${hex("HEADER")}, 6, 0) = 6`,
    `11 1.4 fsync(21) = 0`,
    `12 1.5 openat(AT_FDCWD, ${hex("/r/wal")}, O_RDONLY|O_CLOEXEC) = 22`,
    ...(opts.dirSync ? [`12 1.6 fsync(22) = 0`] : []),
    `12 1.7 close(22) = 0`,
    `11 1.8 pwrite64(21, ${hex(rec)}, 600, 6 <unfinished ...>`,
    `12 1.9 close(99) = 0`,
    `11 2.0 <... pwrite64 resumed>) = 600`,
    ...(opts.datasync ? [`12 2.1 fdatasync(21) = 0`] : []),
    `10 2.2 write(5, ${hex("ack 3 0\n")}, 8) = 8`,
  ];
  return `${lines.join("\n")}\n`;
}

describe("tier D trace model", () => {
  it("parses descriptors, offsets, bytes, directory fsyncs and acks", () => {
    const p = parseTrace(trace({ dirSync: true, datasync: true }), "/r", "/r/acks");
    expect(p.ops.map((o) => o.kind)).toEqual(["mkdir", "create", "write", "fsync", "dirsync", "write", "fsync", "ack"]);
    const w = p.ops[5];
    expect(w?.kind === "write" && w.offset === 6 && w.data.byteLength === 600 && w.data[599] === 7).toBe(true);
    expect(staticCheck(p.ops, p.names, new Set()).findings).toEqual([]);
  });

  it("the static checks name a missing fdatasync and a missing directory fsync", () => {
    const noData = parseTrace(trace({ dirSync: true, datasync: false }), "/r", "/r/acks");
    expect(staticCheck(noData.ops, noData.names, new Set()).findings.map((f) => f.kind)).toEqual([
      "ack-before-datasync",
    ]);
    const noDir = parseTrace(trace({ dirSync: false, datasync: true }), "/r", "/r/acks");
    expect(staticCheck(noDir.ops, noDir.names, new Set()).findings.map((f) => f.kind)).toEqual([
      "entry-without-dir-fsync",
    ]);
  });

  it("crash states: a synced record is in every state; an unsynced one may be missing or torn", () => {
    const p = parseTrace(trace({ dirSync: true, datasync: true }), "/r", "/r/acks");
    const after = crashStatesAt(p.ops, p.ops.length, 1, 4);
    for (const s of after) expect(materialise(p.ops, s)[0]?.bytes.byteLength).toBe(606);
    // Before the fdatasync (op 6): the 600-byte write (2 sectors) is free.
    const before = crashStatesAt(p.ops, 6, 1, 8);
    const sizes = new Set(before.map((s) => materialise(p.ops, s)[0]?.bytes.byteLength));
    expect(sizes).toEqual(new Set([6, 606]));
    expect(before.some((s) => s.model === "ordered" && s.description.includes("torn"))).toBe(true);
    expect(before.some((s) => s.model === "strict")).toBe(true);
  });
});
