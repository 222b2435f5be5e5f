/** Tier D's parser, models and static checks on a hand-written trace (no strace needed). */

import { describe, expect, it } from "vitest";
import { commitsOf, requiredAt } from "./trace-check.js";
import { commitBytes, hex } from "./trace-fixture.js";
import { crashStatesAt, materialise, staticCheck } from "./trace-model.js";
import { parseTrace } from "./trace-parse.js";
import { recordSpan } from "./trace-records.js";

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

  it("a descriptor number reused while another thread's close of it is unfinished follows the new file", () => {
    // The kernel frees the number as close starts; the open on another thread returns it before close returns.
    const lines = [
      `10 1.0 mkdir(${hex("/r/wal")}, 0777) = 0`,
      `11 1.1 openat(AT_FDCWD, ${hex("/r/wal/old")}, O_RDWR|O_CREAT|O_EXCL|O_CLOEXEC, 0666) = 20`,
      `11 1.2 close(20 <unfinished ...>`,
      `12 1.3 openat(AT_FDCWD, ${hex("/r/wal/new")}, O_RDWR|O_CREAT|O_EXCL|O_CLOEXEC, 0666) = 20`,
      `11 1.4 <... close resumed>) = 0`,
      `12 1.5 pwrite64(20, ${hex("HEADER")}, 6, 0) = 6`,
      `12 1.6 fdatasync(20) = 0`,
    ];
    const p = parseTrace(`${lines.join("\n")}\n`, "/r", "/r/acks");
    const newIno = p.ops.find((op) => op.kind === "create" && op.path === "/r/wal/new");
    expect(newIno).toBeDefined();
    const ino = (newIno as { ino: number }).ino;
    expect(p.ops.filter((op) => op.kind !== "create" && op.kind !== "mkdir")).toMatchObject([
      { kind: "write", ino, offset: 0 },
      { kind: "fsync", ino },
    ]);
  });

  it("a write still running when its descriptor's close starts is modelled on its file and reported", () => {
    const lines = [
      `10 1.0 mkdir(${hex("/r/wal")}, 0777) = 0`,
      `11 1.1 openat(AT_FDCWD, ${hex("/r/wal/1.wal")}, O_RDWR|O_CREAT|O_EXCL|O_CLOEXEC, 0666) = 20`,
      `11 1.2 pwrite64(20, ${hex("STRAY")}, 5, 100 <unfinished ...>`,
      `12 1.3 close(20 <unfinished ...>`,
      `13 1.4 openat(AT_FDCWD, ${hex("/r/wal/2.wal")}, O_RDWR|O_CREAT|O_EXCL|O_CLOEXEC, 0666) = 20`,
      `11 1.5 <... pwrite64 resumed>) = 5`,
      `12 1.6 <... close resumed>) = 0`,
    ];
    const p = parseTrace(`${lines.join("\n")}\n`, "/r", "/r/acks");
    const first = p.ops.find((op) => op.kind === "create" && op.path === "/r/wal/1.wal") as { ino: number };
    // The kernel resolved the number when the write began: the bytes went to 1.wal, not to the file reusing it.
    expect(p.ops.filter((op) => op.kind === "write")).toMatchObject([{ ino: first.ino, offset: 100 }]);
    expect(p.unmodelled).toEqual(["pwrite64 on /r/wal/1.wal still running when its descriptor 20 was closed"]);
  });

  it("a failed close frees the number too, and dup2 onto a live descriptor closes it", () => {
    const lines = [
      `10 1.0 mkdir(${hex("/r/wal")}, 0777) = 0`,
      `11 1.1 openat(AT_FDCWD, ${hex("/r/wal/1.wal")}, O_RDWR|O_CREAT|O_EXCL|O_CLOEXEC, 0666) = 20`,
      `11 1.2 close(20) = -1 EIO (Input/output error)`,
      `11 1.3 pwrite64(20, ${hex("LOST")}, 4, 0) = 4`,
      `11 1.4 openat(AT_FDCWD, ${hex("/r/wal/2.wal")}, O_RDWR|O_CREAT|O_EXCL|O_CLOEXEC, 0666) = 21`,
      `11 1.5 openat(AT_FDCWD, ${hex("/r/wal/3.wal")}, O_RDWR|O_CREAT|O_EXCL|O_CLOEXEC, 0666) = 22`,
      `11 1.6 dup2(21, 22) = 22`,
      `11 1.7 pwrite64(22, ${hex("TWO")}, 3, 0) = 3`,
    ];
    const p = parseTrace(`${lines.join("\n")}\n`, "/r", "/r/acks");
    const ino = (path: string) => (p.ops.find((op) => op.kind === "create" && op.path === path) as { ino: number }).ino;
    // Nothing reaches 1.wal after its (failed) close; 3.wal's descriptor now names 2.wal.
    expect(p.ops.filter((op) => op.kind === "write")).toMatchObject([{ ino: ino("/r/wal/2.wal"), offset: 0 }]);
    expect(p.unmodelled).toEqual([]);
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

  it("a write that completes while an fdatasync is in flight is not covered by it", () => {
    // Commit 0 (LSNs 1..3) is written, then an fdatasync starts on another thread, and commit 1 (LSNs 4..6) is
    // written before it returns: only commit 0 is known durable.
    const a = commitBytes(0, 1);
    const b = commitBytes(1, 4);
    const lines = (claims: string[]) =>
      [
        `11 1.0 openat(AT_FDCWD, ${hex("/r/acks")}, O_WRONLY|O_CREAT|O_APPEND|O_CLOEXEC, 0666) = 5`,
        `11 1.1 openat(AT_FDCWD, ${hex("/r/1.wal")}, O_RDWR|O_CLOEXEC) = 21`,
        `11 1.2 pwrite64(21, ${hex(a)}, ${a.byteLength}, 32) = ${a.byteLength}`,
        "12 1.3 fdatasync(21 <unfinished ...>",
        `11 1.4 pwrite64(21, ${hex(b)}, ${b.byteLength}, ${32 + a.byteLength}) = ${b.byteLength}`,
        "12 1.5 <... fdatasync resumed>) = 0",
        ...claims.map((c) => `10 1.6 write(5, ${hex(`${c}\n`)}, ${c.length + 1}) = ${c.length + 1}`),
      ].join("\n");
    // The segment's creation, made durable by a directory fsync.
    const pre = [
      `11 0.7 openat(AT_FDCWD, ${hex("/r/1.wal")}, O_RDWR|O_CREAT|O_CLOEXEC, 0666) = 20`,
      `11 0.8 openat(AT_FDCWD, ${hex("/r")}, O_RDONLY|O_CLOEXEC) = 19`,
      "11 0.9 fsync(19) = 0\n",
    ].join("\n");
    const ok = parseTrace(pre + lines(["ack 3 0", "wrote 6 1"]), "/r", "/r/acks");
    const sync = ok.ops.find((o) => o.kind === "fsync");
    expect(sync?.kind === "fsync" && sync.covers).toBe(3); // create, dirsync, commit 0's write; not commit 1's
    expect(staticCheck(ok.ops, ok.names, new Set()).findings).toEqual([]);
    const bad = parseTrace(pre + lines(["ack 3 0", "ack 6 1"]), "/r", "/r/acks");
    const findings = staticCheck(bad.ops, bad.names, new Set()).findings;
    expect(findings.map((f) => f.kind)).toEqual(["ack-before-datasync"]);
    expect(findings[0]?.message).toMatch(/^ack of LSN 6 \(commit 1\) while the write of \d+ bytes .*LSNs 4\.\.6/);
  });

  it("an ack needs the write that holds exactly its LSN synced: a commit record written alone", () => {
    // Commit 0 at LSNs 1..3: its begin and batch (LSNs 1..2) are written and fdatasynced, then its commit record
    // (LSN 3) is written alone and acknowledged without an fdatasync.
    const whole = commitBytes(0, 1);
    const cut = [...Array(whole.byteLength).keys()].find((k) => recordSpan(whole.subarray(0, k))?.last === 2) as number;
    const head = whole.subarray(0, cut);
    const commit = whole.subarray(cut);
    expect([recordSpan(head), recordSpan(commit)]).toEqual([
      { first: 1, last: 2 },
      { first: 3, last: 3 },
    ]);
    const p = parseTrace(
      [
        `11 0.7 openat(AT_FDCWD, ${hex("/r/1.wal")}, O_RDWR|O_CREAT|O_CLOEXEC, 0666) = 20`,
        `11 0.8 openat(AT_FDCWD, ${hex("/r")}, O_RDONLY|O_CLOEXEC) = 19`,
        "11 0.9 fsync(19) = 0",
        `11 1.0 openat(AT_FDCWD, ${hex("/r/acks")}, O_WRONLY|O_CREAT|O_APPEND|O_CLOEXEC, 0666) = 5`,
        `11 1.2 pwrite64(20, ${hex(head)}, ${head.byteLength}, 32) = ${head.byteLength}`,
        "11 1.3 fdatasync(20) = 0",
        `11 1.4 pwrite64(20, ${hex(commit)}, ${commit.byteLength}, ${32 + head.byteLength}) = ${commit.byteLength}`,
        `11 1.5 write(5, ${hex("ack 3 0\n")}, 8) = 8`,
      ].join("\n"),
      "/r",
      "/r/acks",
    );
    const findings = staticCheck(p.ops, p.names, new Set()).findings;
    expect(findings.map((f) => f.kind)).toEqual(["ack-before-datasync"]);
    expect(findings[0]?.message).toMatch(/LSNs 3\.\.3/);
  });

  it("reads the LSNs of whole records in a write, and nothing from other bytes", () => {
    const two = Buffer.concat([commitBytes(0, 1), commitBytes(1, 4)]);
    expect(recordSpan(two)).toEqual({ first: 1, last: 6 });
    expect(recordSpan(two.subarray(0, two.byteLength - 1))).toBeNull(); // a torn last record
    const flipped = Uint8Array.from(two);
    flipped[30] = (flipped[30] as number) ^ 1;
    expect(recordSpan(flipped)).toBeNull();
    expect(recordSpan(new Uint8Array(32))).toBeNull();
  });

  it("required commits: acks, and wrote ones at or below a synced LSN, above the fence", () => {
    const claims = ["wrote 3 0", "wrote 6 1", "synced 6", "wrote 9 2", "ack 12 3", "ckpt 3", "wrote 15 4"];
    const { ops } = parseTrace(
      [
        `10 1.0 openat(AT_FDCWD, ${hex("/r/acks")}, O_WRONLY|O_CREAT|O_APPEND|O_CLOEXEC, 0666) = 5`,
        ...claims.map((c) => `10 1.1 write(5, ${hex(`${c}\n`)}, ${c.length + 1}) = ${c.length + 1}`),
      ].join("\n"),
      "/r",
      "/r/acks",
    );
    const commits = commitsOf(ops);
    expect(commits.order).toEqual([0, 1, 2, 3, 4]);
    const at = (point: number) => {
      const r = requiredAt(ops, point, commits);
      return { fence: r.fence, commits: Object.fromEntries(r.commits) };
    };
    expect(at(2)).toEqual({ fence: 0, commits: {} });
    expect(at(3)).toEqual({ fence: 0, commits: { 0: 3, 1: 6 } });
    expect(at(5)).toEqual({ fence: 0, commits: { 0: 3, 1: 6, 3: 12 } });
    expect(at(7)).toEqual({ fence: 3, commits: { 1: 6, 3: 12 } });
  });
});
