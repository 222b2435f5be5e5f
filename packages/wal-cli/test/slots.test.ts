/**
 * `lora-wal slots`: the listing (with what each slot holds back from truncation), `create` and `drop`, their errors,
 * and that create and drop write inside `slots/` only while the listing writes nothing.
 */

import { mkdir, open, readdir, stat } from "node:fs/promises";
import { join } from "node:path";
import { Wal } from "@lora/wal";
import { type JsonValue, jsonCodec } from "@lora/wal-codec";
import { oldestRetainedLsn, readSlot } from "@lora/wal-replay";
import { decodeSegmentHeader, SEGMENT_HEADER_BYTES } from "@lora/wal-segment";
import { describe, expect, it } from "vitest";
import type { SlotReport, SlotReportEntry } from "../src/index.js";
import { fingerprint, runCli, segmentFiles, type TempDir, useJsonWal, writeJsonWal } from "./helpers.js";

const PAD = "x".repeat(40);

async function baseLsnOf(path: string): Promise<number> {
  const file = await open(path, "r");
  try {
    const header = Buffer.alloc(SEGMENT_HEADER_BYTES);
    await file.read(header, 0, SEGMENT_HEADER_BYTES, 0);
    return decodeSegmentHeader(header, path).baseLsn;
  } finally {
    await file.close();
  }
}

async function listJson(dir: string): Promise<SlotReport> {
  const result = await runCli(["slots", dir, "--json"]);
  expect(result.code, result.stderr).toBe(0);
  return JSON.parse(result.stdout) as SlotReport;
}

/** The fingerprint of everything but `slots/` and the log directory's own mtime (a new `slots/` entry moves it). */
async function outsideSlots(dir: string): Promise<string> {
  return (await fingerprint(dir))
    .split("\n")
    .filter((line) => !line.startsWith("./slots") && !line.startsWith("./ mtime="))
    .join("\n");
}

/** A log of `transactions` JSON transactions over 1 KiB segments, truncated up to `fence`, then closed. */
async function truncatedLog(dir: string, options: { maxSlotRetainedBytes?: number; slot?: string } = {}) {
  const { slot, ...walOptions } = options;
  const { wal } = await Wal.open<JsonValue>(dir, { codec: jsonCodec, segmentTargetBytes: 1024, ...walOptions });
  try {
    if (slot !== undefined) expect((await runCli(["slots", dir, "create", slot])).code).toBe(0);
    for (let k = 0; k < 40; k++) await wal.commitTx([{ k, pad: PAD }, k]);
    expect(await wal.truncateUpTo(60)).toBeGreaterThan(0);
  } finally {
    await wal.close();
  }
}

describe("lora-wal slots", () => {
  let tmp: TempDir;
  let dir: string;
  useJsonWal("lora-wal-slots", {}, (wal) => {
    ({ tmp, dir } = wal);
  });

  it("names a directory that needs quoting as one shell word in the command it suggests", async () => {
    const spaced = join(tmp.path, "my wal");
    await writeJsonWal(spaced, 3, 1024);
    const empty = await runCli(["slots", spaced]);
    expect(empty.code).toBe(0);
    expect(empty.stdout).toContain(`slots      none (create one: lora-wal slots '${spaced}' create <name>)`);
  });

  it("lists the slots with their position, creation time, status and the log each holds back", async () => {
    await writeJsonWal(dir, 30, 1024);
    const names = await segmentFiles(dir);
    expect(names.length).toBeGreaterThan(2);
    const sizes = await Promise.all(names.map(async (n) => (await stat(join(dir, n))).size));
    const total = sizes.reduce((a, b) => a + b, 0);
    const empty = await runCli(["slots", dir]);
    expect(empty.code).toBe(0);
    expect(empty.stdout).toContain(`slots      none (create one: lora-wal slots ${dir} create <name>)`);
    expect(await listJson(dir)).toEqual({
      path: dir,
      oldestRetainedLsn: 1,
      segments: names.length,
      bytes: total,
      slots: [],
      damaged: [],
    });

    // "mid" is positioned just before the second segment: it needs that segment and every later one.
    const midLsn = (await baseLsnOf(join(dir, names[1] as string))) - 1;
    expect((await runCli(["slots", dir, "create", "all"])).stdout).toMatch(
      /^created slot all at LSN 0; it holds back .* bytes, \d+ segments\)$/m,
    );
    expect((await runCli(["slots", dir, "create", "mid", "--at", String(midLsn)])).code).toBe(0);
    // At the last commit (LSN 90) a slot needs only the newest segment, where LSN 91 will go.
    const created = await runCli(["slots", dir, "create", "tip", "--at", "90", "--json"]);
    expect(created.code, created.stderr).toBe(0);
    const tip = JSON.parse(created.stdout) as SlotReportEntry;
    expect(tip).toMatchObject({ name: "tip", confirmedLsn: 90, status: "valid", invalidated: null });
    expect(tip.heldBackBytes).toBe(sizes.at(-1));

    const report = await listJson(dir);
    expect(report.slots.map((s) => [s.name, s.confirmedLsn, s.status, s.heldBackBytes, s.heldBackSegments])).toEqual([
      ["all", 0, "valid", total, names.length],
      ["mid", midLsn, "valid", total - (sizes[0] as number), names.length - 1],
      ["tip", 90, "valid", sizes.at(-1), 1],
    ]);
    for (const slot of report.slots) {
      expect(slot.createdAt).toBe(new Date(slot.createdAtMs).toISOString());
      expect(slot.createdAtMs).toBe((await readSlot(dir, slot.name)).createdAtMs);
    }
    expect(report.slots[2]).toEqual(tip);

    const text = await runCli(["slots", dir]);
    expect(text.code).toBe(0);
    const lines = text.stdout.split("\n");
    expect(lines[0]).toBe(`directory  ${dir}`);
    expect(lines[1]).toMatch(new RegExp(`^log {8}${names.length} segments, .* \\(${total} bytes\\), starts at LSN 1$`));
    expect(lines[2]).toBe("slots      3");
    expect(lines[4]).toMatch(/^NAME +CONFIRMED LSN +RESTART LSN +CREATED +STATUS +HOLDS BACK$/);
    expect(lines[5]).toMatch(
      new RegExp(
        `^all +0 +1 +\\d{4}-\\d\\d-\\d\\dT[0-9:.]+Z +valid +.*\\(${total} bytes, ${names.length} segments\\)$`,
      ),
    );
    expect(lines[7]).toMatch(new RegExp(`^tip +90 +91 .* valid +.*\\(${sizes.at(-1)} bytes, 1 segment\\)$`));

    const dropped = await runCli(["slots", dir, "drop", "mid"]);
    expect(dropped).toEqual({ code: 0, stdout: "dropped slot mid\n", stderr: "" });
    expect((await listJson(dir)).slots.map((s) => s.name)).toEqual(["all", "tip"]);
    expect(await runCli(["slots", dir, "drop", "tip", "--json"])).toMatchObject({
      code: 0,
      stdout: '{"dropped":"tip"}\n',
    });
  });

  it("create and drop write inside slots/ only; the listing writes nothing at all", async () => {
    await writeJsonWal(dir, 10, 1024);
    const outside = await outsideSlots(dir);
    const listedBefore = await fingerprint(tmp.path);
    expect((await runCli(["slots", dir])).code).toBe(0);
    expect((await runCli(["slots", dir, "--json"])).code).toBe(0);
    expect(await fingerprint(tmp.path)).toBe(listedBefore);

    expect((await runCli(["slots", dir, "create", "a", "--at", "3"])).code).toBe(0);
    expect((await runCli(["slots", dir, "create", "b"])).code).toBe(0);
    expect(await outsideSlots(dir)).toBe(outside);
    const withSlots = await fingerprint(tmp.path);
    expect((await runCli(["slots", dir])).code).toBe(0);
    expect(await fingerprint(tmp.path)).toBe(withSlots);

    expect((await runCli(["slots", dir, "drop", "a"])).code).toBe(0);
    expect(await outsideSlots(dir)).toBe(outside);
  });

  it("an invalidated slot lists as INVALIDATED with the reason and where the log then started", async () => {
    await truncatedLog(dir, { maxSlotRetainedBytes: 1, slot: "stalled" });
    const oldest = (await oldestRetainedLsn(dir)) as number;
    const report = await listJson(dir);
    expect(report.oldestRetainedLsn).toBe(oldest);
    const [slot] = report.slots;
    expect(slot).toMatchObject({ name: "stalled", confirmedLsn: 0, status: "invalidated", heldBackBytes: null });
    expect(slot?.heldBackSegments).toBeNull();
    expect(slot?.invalidated?.oldestRetainedLsn).toBe(oldest);
    expect(slot?.invalidated?.retainedBytes).toBeGreaterThan(1);
    const reason = slot?.invalidated?.reason as string;
    expect(reason.length).toBeGreaterThan(0);
    const text = await runCli(["slots", dir]);
    expect(text.stdout).toMatch(/^stalled +0 +1 +\S+ +INVALIDATED +-$/m);
    expect(text.stdout).toMatch(
      new RegExp(`^  stalled: invalidated \\(the log then started at LSN ${oldest}, it held back [^)]+\\): `, "m"),
    );
    expect(text.stdout).toContain(`): ${reason}\n`);
  });

  it("create refuses a position the log no longer holds (exit 6) and leaves no slot", async () => {
    await truncatedLog(dir);
    const oldest = (await oldestRetainedLsn(dir)) as number;
    const before = await outsideSlots(dir);
    const behind = await runCli(["slots", dir, "create", "late"]);
    expect(behind.code).toBe(6);
    expect(behind.stderr).toContain(`it starts at LSN ${oldest}; create the slot at LSN ${oldest - 1} or above`);
    expect(behind.stderr).toContain("(WAL_TRUNCATED)");
    // Nor the slots/ folder it made for it; one that was there stays.
    expect(await stat(join(dir, "slots")).catch((e: { code?: string }) => e.code)).toBe("ENOENT");
    expect(await outsideSlots(dir)).toBe(before);
    await mkdir(join(dir, "slots"));
    expect((await runCli(["slots", dir, "create", "late"])).code).toBe(6);
    expect(await readdir(join(dir, "slots"))).toEqual([]);
    expect((await listJson(dir)).slots).toEqual([]);
    const ok = await runCli(["slots", dir, "create", "late", "--at", String(oldest - 1)]);
    expect(ok.code, ok.stderr).toBe(0);
    expect((await listJson(dir)).slots.map((s) => [s.name, s.confirmedLsn])).toEqual([["late", oldest - 1]]);
  });

  it("create refuses --at past the end of the log (exit 3), writing nothing, and takes the last LSN", async () => {
    await writeJsonWal(dir, 2); // two transactions: LSNs 1..6
    const before = await fingerprint(dir);
    const ahead = await runCli(["slots", dir, "create", "ahead", "--at", "1000"]);
    expect(ahead.code).toBe(3);
    expect(ahead.stderr).toContain(`replication slot "ahead" cannot be at LSN 1000: the log in ${dir} ends at LSN 6`);
    const exact = await runCli(["slots", dir, "create", "ahead", "--at", "7", "--restart-lsn", "4"]);
    expect(exact.code).toBe(3);
    expect(exact.stderr).toContain("cannot be at LSN 7: the log in");
    // Not even slots/ was created.
    expect(await fingerprint(dir)).toBe(before);
    const last = await runCli(["slots", dir, "create", "ahead", "--at", "6"]);
    expect(last.code, last.stderr).toBe(0);
    expect(await readSlot(dir, "ahead")).toMatchObject({ confirmedLsn: 6, restartLsn: 7 });
  });

  it("create --restart-lsn keeps a consumer's exact token: the slot restarts there and holds that much back", async () => {
    await truncatedLog(dir);
    const oldest = (await oldestRetainedLsn(dir)) as number;
    const tip = 3 * 40; // the last commit
    const exact = await runCli(["slots", dir, "create", "exact", "--at", String(tip), "--restart-lsn", String(oldest)]);
    expect(exact.code, exact.stderr).toBe(0);
    expect(exact.stdout).toMatch(
      new RegExp(`^created slot exact at LSN ${tip} \\(restart LSN ${oldest}\\); it holds back `),
    );
    expect(await readSlot(dir, "exact")).toMatchObject({ confirmedLsn: tip, restartLsn: oldest });
    const [entry] = (await listJson(dir)).slots;
    // Restarting at the oldest retained LSN holds back the whole log, where --at alone would hold the newest segment.
    const total = (await listJson(dir)).bytes;
    expect(entry).toMatchObject({ name: "exact", confirmedLsn: tip, restartLsn: oldest, heldBackBytes: total });
    // A restart point the log no longer holds is refused (exit 6) and leaves no slot; so is one above --at + 1.
    const behind = await runCli(["slots", dir, "create", "late", "--at", String(tip), "--restart-lsn", "1"]);
    expect(behind.code).toBe(6);
    expect(behind.stderr).toContain(
      `no longer holds the records from LSN 1 (the restart point of the token at LSN ${tip}, where a transaction`,
    );
    expect(behind.stderr).toContain(`create the slot at LSN ${oldest - 1} or above`);
    const above = await runCli(["slots", dir, "create", "late", "--at", "5", "--restart-lsn", "7"]);
    expect(above.code).toBe(3);
    expect(above.stderr).toContain("restartLsn must lie between 1 and confirmedLsn + 1 (6), got 7");
    const alone = await runCli(["slots", dir, "create", "late", "--restart-lsn", "7"]);
    expect(alone.code).toBe(3);
    expect(alone.stderr).toContain("--restart-lsn goes with --at");
    expect((await listJson(dir)).slots.map((s) => s.name)).toEqual(["exact"]);
  });

  it("create takes a restart point the one LSN below the log's start (the change feed's lone missing LSN), no lower", async () => {
    await truncatedLog(dir);
    const oldest = (await oldestRetainedLsn(dir)) as number;
    const tip = 3 * 40;
    const lone = await runCli([
      "slots",
      dir,
      "create",
      "lone",
      "--at",
      String(tip),
      "--restart-lsn",
      String(oldest - 1),
    ]);
    expect(lone.code, lone.stderr).toBe(0);
    expect(await readSlot(dir, "lone")).toMatchObject({ confirmedLsn: tip, restartLsn: oldest - 1 });
    const two = await runCli(["slots", dir, "create", "two", "--at", String(tip), "--restart-lsn", String(oldest - 2)]);
    expect(two.code).toBe(6);
    expect(two.stderr).toContain(`no longer holds the records from LSN ${oldest - 2} (the restart point`);
    expect((await listJson(dir)).slots.map((s) => s.name)).toEqual(["lone"]);
  });

  it("errors: an existing or missing slot exits 7, a bad command line 3, a path it cannot use 4", async () => {
    await writeJsonWal(dir, 2);
    expect((await runCli(["slots", dir, "create", "s"])).code).toBe(0);
    const segment = join(dir, (await segmentFiles(dir))[0] as string);
    const nowhere = join(tmp.path, "nowhere");
    const cases: [string[], number, string][] = [
      [["slots", dir, "create", "s"], 7, `replication slot "s" already exists in ${dir} (WAL_SLOT_EXISTS)`],
      [["slots", dir, "drop", "t"], 7, `no replication slot "t" in ${dir} (WAL_SLOT_NOT_FOUND)`],
      [["slots"], 3, "missing <dir>"],
      [["slots", dir, "create"], 3, "missing <name> of the slot to create"],
      [["slots", dir, "drop"], 3, "missing <name> of the slot to drop"],
      [["slots", dir, "rename", "s"], 3, 'unknown slots action "rename" (expected create or drop)'],
      [["slots", dir, "create", "u", "v"], 3, "unexpected argument: v"],
      [["slots", dir, "create", "no/slash"], 3, "a replication slot name is 1 to 64 letters"],
      [["slots", dir, "create", "u", "--at", "-1"], 3, ""],
      [["slots", dir, "create", "u", "--at", "x"], 3, "--at must be a non-negative integer"],
      [["slots", dir, "--at", "4"], 3, "--at goes with create"],
      [["slots", dir, "drop", "s", "--at", "4"], 3, "--at goes with create"],
      [["slots", nowhere], 4, "no such file or directory"],
      [["slots", nowhere, "create", "s"], 4, "no such file or directory"],
      [["slots", segment], 4, "slots needs a WAL directory"],
      [["slots", segment, "create", "s"], 4, "slots needs a WAL directory"],
    ];
    for (const [argv, code, message] of cases) {
      const result = await runCli(argv);
      expect(result.code, argv.join(" ")).toBe(code);
      expect(result.stderr).toContain(message);
      expect(result.stdout).toBe("");
    }
    if (await stat(nowhere).catch(() => null)) throw new Error("slots create made the missing log directory");
    expect((await listJson(dir)).slots.map((s) => s.name)).toEqual(["s"]);
  });
});
