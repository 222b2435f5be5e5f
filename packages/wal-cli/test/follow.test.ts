/**
 * `lora-wal follow` as a real process beside a writer in this process (the real `Wal`, which publishes its durable
 * LSN): live delivery, text and NDJSON, the two bounds, SIGTERM/SIGINT, resuming through a slot, and the errors.
 * Every wait ends on what the follower printed; time-outs are failure guards only.
 */

import { unlink } from "node:fs/promises";
import { join } from "node:path";
import { Wal } from "@lora/wal";
import { type JsonValue, jsonCodec } from "@lora/wal-codec";
import { createPropertyMap, type MutationEvent } from "@lora/wal-codec/lora";
import { advanceSlot, oldestRetainedLsn, readSlot } from "@lora/wal-replay";
import { beforeAll, describe, expect, it, vi } from "vitest";
import { main } from "../src/main.js";
import { bundleCli, spawnCli } from "./cli-process.js";
import { fingerprint, runCli, segmentFiles, type TempDir, useJsonWal, writeJsonWal } from "./helpers.js";

let bin: string;
beforeAll(async () => {
  bin = await bundleCli();
});

const HEADER = "COMMIT LSN   BEGIN LSN  EVENTS";
const PAD = "x".repeat(40);

/** The text `follow --codec json` prints for `writeJsonWal`'s transaction `k` (begin 3k+1, commit 3k+3). */
function txText(k: number): string[] {
  return [
    `${String(3 * k + 3).padStart(10)}  ${String(3 * k + 1).padStart(10)}  2`,
    `    {"k":${k},"pad":"${PAD}"}`,
    `    ${k}`,
  ];
}

/** The transaction lines printed so far (three numbers; an event line of these logs never has three). */
function txLines(lines: readonly string[]): string[] {
  return lines.filter((l) => /^ *\d+ +\d+ +\d+$/.test(l));
}

describe("lora-wal follow", () => {
  let tmp: TempDir;
  let dir: string;
  useJsonWal("lora-wal-follow", {}, (wal) => {
    ({ tmp, dir } = wal);
  });

  it("prints transactions as a live writer commits them, in text, and stops after --count", async () => {
    const { wal } = await Wal.open<JsonValue>(dir, { codec: jsonCodec });
    try {
      for (let k = 0; k < 3; k++) await wal.commitTx([{ k, pad: PAD }, k]);
      const follow = spawnCli(bin, ["follow", dir, "--codec", "json", "--count", "5"]);
      await follow.waitFor((lines) => txLines(lines).length === 3, "the three committed transactions");
      // Committed while the follower waits: it must pick them up live.
      for (let k = 3; k < 6; k++) await wal.commitTx([{ k, pad: PAD }, k]);
      const end = await follow.exited;
      expect(end.code, follow.stderr()).toBe(0);
      expect(follow.stderr()).toBe("");
      expect(end.stdout).toBe(`${[HEADER, ...[0, 1, 2, 3, 4].flatMap(txText)].join("\n")}\n`);
    } finally {
      await wal.close();
    }
    // The events are rendered exactly as dump renders them.
    const dump = await runCli(["dump", dir, "--codec", "json"]);
    for (const k of [0, 1, 2, 3, 4]) expect(dump.stdout).toContain(txText(k).slice(1).join("\n"));
  });

  it("--json prints one object per line with dump --json's events; --after and --until-lsn bound it", async () => {
    await writeJsonWal(dir, 6);
    const follow = spawnCli(bin, ["follow", dir, "--codec", "json", "--json", "--after", "3", "--until-lsn", "10"]);
    const end = await follow.exited;
    expect(end.code, follow.stderr()).toBe(0);
    const printed = end.stdout
      .trimEnd()
      .split("\n")
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    // After LSN 3: transactions 1..; 12 is the first commit LSN >= 10, and the last printed.
    expect(printed.map((tx) => [tx.beginLsn, tx.commitLsn])).toEqual([
      [4, 6],
      [7, 9],
      [10, 12],
    ]);
    const dump = await runCli(["dump", dir, "--codec", "json", "--json", "--kind", "mutationBatch"]);
    const batches = dump.stdout
      .trimEnd()
      .split("\n")
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    for (const tx of printed) {
      expect(Object.keys(tx)).toEqual(["beginLsn", "commitLsn", "restartLsn", "events"]);
      expect(tx.events).toEqual(batches.find((b) => b.txBeginLsn === tx.beginLsn)?.events);
    }
  });

  it("renders LoraDB events (the default codec) as dump does, in text and in JSON", async () => {
    const { wal } = await Wal.open(dir);
    const properties = createPropertyMap();
    properties.big = 9223372036854775807n;
    properties.f = 2;
    const events: MutationEvent[] = [
      { type: "CreateNode", id: 7n, labels: ["Person"], properties },
      { type: "SetNodeProperty", nodeId: 7n, key: "name", value: "ada" },
    ];
    await wal.commitTx(events);
    await wal.close();
    const text = spawnCli(bin, ["follow", dir, "--written", "--count", "1"]);
    const json = spawnCli(bin, ["follow", dir, "--json", "--count", "1"]);
    const [t, j] = await Promise.all([text.exited, json.exited]);
    expect([t.code, j.code]).toEqual([0, 0]);
    const dumpText = await runCli(["dump", dir]);
    const eventLines = dumpText.stdout.split("\n").filter((l) => l.startsWith("    "));
    expect(eventLines).toEqual([
      "    CreateNode #7 (:Person {big: 9223372036854775807, f: 2.0})",
      '    SetNodeProperty #7.name = "ada"',
    ]);
    expect(t.stdout).toBe(`${[HEADER, `${"3".padStart(10)}  ${"1".padStart(10)}  2`, ...eventLines].join("\n")}\n`);
    const dumpJson = await runCli(["dump", dir, "--json", "--tx", "1", "--kind", "mutationBatch"]);
    const dumped = JSON.parse(dumpJson.stdout) as { events: unknown };
    expect(JSON.parse(j.stdout)).toEqual({ beginLsn: 1, commitLsn: 3, restartLsn: 4, events: dumped.events });
  });

  for (const signal of ["SIGTERM", "SIGINT"] as const) {
    it(`${signal} ends it with exit 0 and everything it printed flushed`, async () => {
      const { wal } = await Wal.open<JsonValue>(dir, { codec: jsonCodec });
      try {
        for (let k = 0; k < 2; k++) await wal.commitTx([{ k, pad: PAD }, k]);
        const follow = spawnCli(bin, ["follow", dir, "--codec", "json"]);
        await follow.waitFor((lines) => txLines(lines).length === 2, "both transactions");
        follow.child.kill(signal);
        const end = await follow.exited;
        expect(end, follow.stderr()).toMatchObject({ code: 0, signal: null });
        expect(follow.stderr()).toBe("");
        expect(end.stdout).toBe(`${[HEADER, ...txText(0), ...txText(1)].join("\n")}\n`);
      } finally {
        await wal.close();
      }
    });
  }

  it("--slot confirms each printed transaction, so a second run resumes after the last one printed", async () => {
    const { wal } = await Wal.open<JsonValue>(dir, { codec: jsonCodec });
    try {
      expect((await runCli(["slots", dir, "create", "replica"])).code).toBe(0);
      for (let k = 0; k < 2; k++) await wal.commitTx([{ k, pad: PAD }, k]);
      // First run: ended by SIGTERM once both transactions are printed.
      const first = spawnCli(bin, ["follow", dir, "--codec", "json", "--json", "--slot", "replica"]);
      await first.waitFor((lines) => lines.length === 2, "both transactions");
      first.child.kill("SIGTERM");
      const firstEnd = await first.exited;
      expect(firstEnd.code, first.stderr()).toBe(0);
      expect(
        firstEnd.stdout
          .trimEnd()
          .split("\n")
          .map((l) => (JSON.parse(l) as { commitLsn: number }).commitLsn),
      ).toEqual([3, 6]);
      expect((await readSlot(dir, "replica")).confirmedLsn).toBe(6);

      for (let k = 2; k < 5; k++) await wal.commitTx([{ k, pad: PAD }, k]);
      // Second run: ended by --count; it starts after the last transaction the first run printed.
      const second = spawnCli(bin, ["follow", dir, "--codec", "json", "--slot", "replica", "--count", "2"]);
      const secondEnd = await second.exited;
      expect(secondEnd.code, second.stderr()).toBe(0);
      expect(secondEnd.stdout).toBe(`${[HEADER, ...txText(2), ...txText(3)].join("\n")}\n`);
      expect((await readSlot(dir, "replica")).confirmedLsn).toBe(12);
    } finally {
      await wal.close();
    }
  });

  it("--slot exits 7 when another process confirmed the slot past what it printed, and leaves the slot there", async () => {
    const { wal } = await Wal.open<JsonValue>(dir, { codec: jsonCodec });
    try {
      expect((await runCli(["slots", dir, "create", "shared"])).code).toBe(0);
      await wal.commitTx([{ k: 0, pad: PAD }, 0]);
      const follow = spawnCli(bin, ["follow", dir, "--codec", "json", "--json", "--slot", "shared"]);
      await follow.waitFor((lines) => lines.length === 1, "the first transaction");
      // Its confirm of what it printed comes right after: wait for it, so the two never write the slot at once.
      await vi.waitFor(async () => expect((await readSlot(dir, "shared")).confirmedLsn).toBe(3), { timeout: 600_000 });
      // Another follower of the same slot confirms ahead (a slot never goes past the end of the log, so the log must
      // reach it first): while this one is stopped, two more transactions are committed and the other confirms the
      // second; the next transaction this one prints, the first, lies below that.
      follow.child.kill("SIGSTOP");
      try {
        await wal.commitTx([{ k: 1, pad: PAD }, 1]);
        await wal.commitTx([{ k: 2, pad: PAD }, 2]);
        await advanceSlot(dir, "shared", 9);
      } finally {
        follow.child.kill("SIGCONT");
      }
      const end = await follow.exited;
      expect(end.code, follow.stderr()).toBe(7);
      expect(follow.stderr()).toContain('replication slot "shared" is at LSN 9; it cannot move back to 6');
      expect(follow.stderr()).toContain("another process confirmed slot");
      // Two transactions, then the failure as the stream's last document (--json).
      const lines = end.stdout.trimEnd().split("\n");
      expect(lines).toHaveLength(3);
      expect(JSON.parse(lines[2] as string)).toMatchObject({ error: { code: "WAL_SLOT_MOVED", exitCode: 7 } });
      expect((await readSlot(dir, "shared")).confirmedLsn).toBe(9);
    } finally {
      await wal.close();
    }
  });

  it("a follower behind truncation exits 6 with WAL_TRUNCATED and where the log now starts", async () => {
    const { wal } = await Wal.open<JsonValue>(dir, { codec: jsonCodec, segmentTargetBytes: 1024 });
    try {
      for (let k = 0; k < 40; k++) await wal.commitTx([{ k, pad: PAD }, k]);
      expect(await wal.truncateUpTo(60)).toBeGreaterThan(0);
    } finally {
      await wal.close();
    }
    const oldest = (await oldestRetainedLsn(dir)) as number;
    expect(oldest).toBeGreaterThan(1);
    const follow = spawnCli(bin, ["follow", dir, "--codec", "json", "--after", "0"]);
    const end = await follow.exited;
    expect(end.code).toBe(6);
    expect(follow.stderr()).toContain("(WAL_TRUNCATED)");
    expect(follow.stderr()).toContain(`its oldest segment starts at lsn ${oldest}`);
    expect(follow.stderr()).toContain(
      `next: follow with --after <LSN of a snapshot taken at LSN ${oldest - 1} or later>`,
    );
    expect(end.stdout).toBe("");
    // From where the log starts, it follows.
    const ok = await runCli(["follow", dir, "--codec", "json", "--after", String(oldest - 1), "--count", "1"]);
    expect(ok.code, ok.stderr).toBe(0);
  });

  it("--after the commit before a checkpoint marker truncation removed prints every transaction after it", async () => {
    // Rotation comes only before a begin, so a checkpoint's marker often ends the segment its truncation removes: the
    // token of the commit before it then lacks only the marker (docs/change-feed.md, "Rotation and truncation").
    const { wal } = await Wal.open<JsonValue>(dir, { codec: jsonCodec, segmentTargetBytes: 1024 });
    const commits: number[] = [];
    const markers: number[] = [];
    try {
      for (let k = 0; k < 30; k++) {
        commits.push((await wal.commitTx([{ k, pad: "x".repeat(300) }]))?.commitLsn as number);
        if (k % 3 === 2) markers.push((await wal.checkpoint(wal.safeCheckpointLsn())).markerLsn);
      }
    } finally {
      await wal.close();
    }
    const oldest = (await oldestRetainedLsn(dir)) as number;
    expect(markers).toContain(oldest - 1);
    const after = oldest - 2;
    expect(commits).toContain(after);
    const expected = commits.filter((c) => c > after);
    const follow = await runCli([
      "follow",
      dir,
      "--codec",
      "json",
      "--json",
      "--after",
      String(after),
      "--count",
      String(expected.length),
    ]);
    expect(follow.code, follow.stderr).toBe(0);
    const printed = follow.stdout
      .trim()
      .split("\n")
      .map((l) => (JSON.parse(l) as { commitLsn: number }).commitLsn);
    expect(printed).toEqual(expected);
    // A slot there is accepted too, and follows on.
    const slot = await runCli(["slots", dir, "create", "late", "--at", String(after)]);
    expect(slot.code, slot.stderr).toBe(0);
    const bySlot = await runCli(["follow", dir, "--codec", "json", "--json", "--slot", "late", "--count", "1"]);
    expect(bySlot.code, bySlot.stderr).toBe(0);
    expect((JSON.parse(bySlot.stdout) as { commitLsn: number }).commitLsn).toBe(expected[0]);
    // One LSN more is refused, as before: it could hold a whole (empty) transaction.
    const behind = await runCli(["follow", dir, "--codec", "json", "--after", String(after - 1), "--count", "1"]);
    expect(behind.code).toBe(6);
    expect(behind.stderr).toContain("(WAL_TRUNCATED)");
  });

  it("an invalidated slot exits 6 (WAL_SLOT_INVALIDATED); a missing one exits 7 (WAL_SLOT_NOT_FOUND)", async () => {
    const { wal } = await Wal.open<JsonValue>(dir, {
      codec: jsonCodec,
      segmentTargetBytes: 1024,
      maxSlotRetainedBytes: 1,
    });
    try {
      expect((await runCli(["slots", dir, "create", "stalled"])).code).toBe(0);
      for (let k = 0; k < 40; k++) await wal.commitTx([{ k, pad: PAD }, k]);
      await wal.truncateUpTo(60);
    } finally {
      await wal.close();
    }
    expect((await readSlot(dir, "stalled")).invalidated).not.toBeNull();
    const invalidated = await runCli(["follow", dir, "--codec", "json", "--slot", "stalled"]);
    expect(invalidated.code).toBe(6);
    expect(invalidated.stdout).toBe("");
    expect(invalidated.stderr).toContain("(WAL_SLOT_INVALIDATED)");
    expect(invalidated.stderr).toContain(
      `next: lora-wal slots ${dir} drop stalled; lora-wal slots ${dir} create stalled --at <LSN of a snapshot`,
    );
    const missing = await runCli(["follow", dir, "--codec", "json", "--slot", "nobody"]);
    expect(missing.code).toBe(7);
    expect(missing.stderr).toContain(`no replication slot "nobody"`);
    expect(missing.stderr).toContain(`next: lora-wal slots ${dir} create nobody`);
    expect(missing.stdout).toBe("");
  });

  it("--json prints each transaction's resume token; --after with --restart-lsn resumes with an interleaved one whole", async () => {
    const { wal } = await Wal.open<JsonValue>(dir, { codec: jsonCodec });
    const t1 = await wal.begin();
    await wal.append(t1, "t1-a");
    const t2 = await wal.begin();
    await wal.append(t2, "t2");
    const t2Commit = await wal.commit(t2);
    await wal.append(t1, "t1-b");
    const t1Commit = await wal.commit(t1);
    await wal.close();
    const all = await runCli(["follow", dir, "--codec", "json", "--json", "--count", "2"]);
    expect(all.code).toBe(0);
    const printed = all.stdout
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as { commitLsn: number; restartLsn: number });
    expect(printed.map((tx) => [tx.commitLsn, tx.restartLsn])).toEqual([
      [t2Commit, t1],
      [t1Commit, t1Commit + 1],
    ]);
    const token = ["--after", String(t2Commit), "--restart-lsn", String(t1)];
    const resumed = await runCli(["follow", dir, "--codec", "json", "--json", ...token, "--count", "1"]);
    expect(JSON.parse(resumed.stdout)).toEqual({
      beginLsn: t1,
      commitLsn: t1Commit,
      restartLsn: t1Commit + 1,
      events: ["t1-a", "t1-b"],
    });
  });

  it("refuses bad command lines (exit 3) and paths it cannot follow (exit 4)", async () => {
    await writeJsonWal(dir, 1);
    const cases: [string[], number, string][] = [
      [["follow"], 3, "missing <dir>"],
      [["follow", dir, "--after", "1", "--slot", "s"], 3, "--after and --slot exclude each other"],
      [["follow", dir, "--restart-lsn", "1"], 3, "--restart-lsn needs --after"],
      [["follow", dir, "--after", "3", "--restart-lsn", "5"], 3, "between 1 and --after + 1"],
      [["follow", dir, "--count", "0"], 3, "--count must be an integer of at least 1"],
      [["follow", dir, "--until-lsn", "x"], 3, "--until-lsn must be a non-negative integer"],
      [["follow", dir, "--slot", "no/such"], 3, "--slot: a replication slot name is"],
      [["follow", dir, "--codec", "xml"], 3, "--codec must be one of"],
      [["follow", join(tmp.path, "nowhere"), "--count", "1"], 4, "no such file or directory"],
      [["follow", join(dir, (await segmentFiles(dir))[0] as string), "--count", "1"], 4, "needs a WAL directory"],
    ];
    for (const [argv, code, message] of cases) {
      const result = await runCli(argv);
      expect(result.code, argv.join(" ")).toBe(code);
      expect(result.stderr).toContain(message);
      expect(result.stdout).toBe("");
    }
  });

  it("a log read with the wrong --codec is a codec mismatch (exit 5) at once, naming the codec", async () => {
    await writeJsonWal(dir, 2);
    const result = await runCli(["follow", dir, "--count", "1"]);
    expect(result.code).toBe(5);
    expect(result.stderr).toContain("lora codec");
    expect(result.stderr).toContain("WAL_CODEC_MISMATCH");
  });

  it("in-process, an interrupt stops it cleanly after what it printed (exit 0)", async () => {
    await writeJsonWal(dir, 2);
    let stdout = "";
    let interrupt: (() => void) | undefined;
    let unsubscribed = false;
    const code = await main(["follow", dir, "--codec", "json", "--json"], {
      stdout: {
        write: (s: string) => {
          stdout += s;
          if (stdout.split("\n").length > 2) interrupt?.();
          return true;
        },
      },
      stderr: { write: () => true },
      env: {},
      interrupts: (listener) => {
        interrupt = listener;
        return () => {
          unsubscribed = true;
        };
      },
    });
    expect(code).toBe(0);
    expect(unsubscribed).toBe(true);
    expect(
      stdout
        .trimEnd()
        .split("\n")
        .map((l) => (JSON.parse(l) as { commitLsn: number }).commitLsn),
    ).toEqual([3, 6]);
  });

  it("changes no byte of the log, also when it syncs what it read itself (no durable mark)", async () => {
    await writeJsonWal(dir, 4, 1024);
    const before = await fingerprint(dir);
    expect((await runCli(["follow", dir, "--codec", "json", "--count", "4"])).code).toBe(0);
    expect(await fingerprint(dir)).toBe(before);
    // No mark (a LoraDB log, or a crashed writer): the follower fdatasyncs the segments it read before printing.
    await unlink(join(dir, ".lora-wal.durable"));
    const unmarked = await fingerprint(dir);
    const result = await runCli(["follow", dir, "--codec", "json", "--count", "4"]);
    expect(result.code, result.stderr).toBe(0);
    expect(txLines(result.stdout.split("\n"))).toHaveLength(4);
    expect(await fingerprint(dir)).toBe(unmarked);
  });
});
