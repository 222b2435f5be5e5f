/**
 * Tier D's model of a shrinking ftruncate whose size change is not durable: ext4 and xfs zero the rest of the cut's
 * 4 KiB block first, and that block can reach the disk while the new length does not (SimFS's `tailZeroed`).
 */

import { describe, expect, it } from "vitest";
import { hex } from "./trace-fixture.js";
import { crashStatesAt, materialise } from "./trace-model.js";
import { parseTrace } from "./trace-parse.js";

const OLD = 10_000;

/** A file of OLD bytes of 0x55 (fsynced), cut to `cut`, then 100 bytes of 0x77 written at the cut; `syncAfter`: fsynced. */
function trace(cut: number, syncAfter: boolean): string {
  const lines = [
    `10 1.0 mkdir(${hex("/r/wal")}, 0777) = 0`,
    `11 1.1 openat(AT_FDCWD, ${hex("/r/wal/1.wal")}, O_RDWR|O_CREAT|O_EXCL|O_CLOEXEC, 0666) = 21`,
    `11 1.2 pwrite64(21, ${hex(new Uint8Array(OLD).fill(0x55))}, ${OLD}, 0) = ${OLD}`,
    "11 1.3 fsync(21) = 0",
    `12 1.4 openat(AT_FDCWD, ${hex("/r/wal")}, O_RDONLY|O_CLOEXEC) = 22`,
    "12 1.5 fsync(22) = 0",
    "12 1.6 close(22) = 0",
    `11 1.7 ftruncate(21, ${cut}) = 0`,
    `11 1.8 pwrite64(21, ${hex(new Uint8Array(100).fill(0x77))}, 100, ${cut}) = 100`,
    ...(syncAfter ? ["11 1.9 fsync(21) = 0"] : []),
  ];
  return `${lines.join("\n")}\n`;
}

/** The distinct contents of the file over every crash state at the end of the trace, as run-length strings. */
function images(cut: number, syncAfter: boolean): Set<string> {
  const p = parseTrace(trace(cut, syncAfter), "/r", "/r/acks");
  const out = new Set<string>();
  for (const s of crashStatesAt(p.ops, p.ops.length, 1, 4)) {
    const bytes = materialise(p.ops, s).find((f) => f.path === "/r/wal/1.wal")?.bytes ?? new Uint8Array(0);
    const runs: string[] = [];
    for (let i = 0; i < bytes.byteLength; ) {
      let j = i;
      while (j < bytes.byteLength && bytes[j] === bytes[i]) j++;
      runs.push(`${(bytes[i] as number).toString(16)}@${i}-${j}`);
      i = j;
    }
    out.add(runs.join(" "));
  }
  return out;
}

describe("tier D: a shrinking cut's lost size change", () => {
  it("gives the old length with the rest of the cut's block zeroed, alone and with the later writes", () => {
    const all = images(5000, false);
    // Alone: the old length, zeros from the cut to the end of its 4 KiB block, the bytes after it untouched.
    expect(all).toContain("55@0-5000 0@5000-8192 55@8192-10000");
    // With the write at the cut that followed it (also unsynced).
    expect(all).toContain("55@0-5000 77@5000-5100 0@5100-8192 55@8192-10000");
    // The states before: the cut lost whole, or landed.
    expect(all).toContain("55@0-10000");
    expect(all).toContain("55@0-5000");
    expect(all).toContain("55@0-5000 77@5000-5100");
  });

  it("not once an fsync of the file made the cut durable, nor for a cut at a block boundary", () => {
    expect([...images(5000, true)]).toEqual(["55@0-5000 77@5000-5100"]);
    expect([...images(8192, false)].some((i) => i.includes("0@"))).toBe(false);
  });
});
