/**
 * `slots --json` (the listing) and `slots create --json` (the created slot) have one key set whatever the log and
 * its slots are like: a key that does not apply is `null` (`oldestRetainedLsn` without a readable segment, a valid
 * slot's `invalidated`, an invalidated one's `heldBackBytes`), never left out. A created slot is printed as the
 * listing prints each slot.
 */

import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { Wal } from "@lora/wal";
import { type JsonValue, jsonCodec } from "@lora/wal-codec";
import { describe, expect, it } from "vitest";
import { runCli, type TempDir, useJsonWal, writeJsonWal } from "./helpers.js";
import { expectOneKeySet, type JsonShape, shape } from "./json-keys.js";

describe("the --json key sets of slots", () => {
  let tmp: TempDir;
  useJsonWal("lora-wal-json-shape-slots", {}, (wal) => {
    tmp = wal.tmp;
  });

  it("are the same over an empty directory, a log without slots, valid, invalidated and damaged slots", async () => {
    const dir = (name: string) => join(tmp.path, name);
    await mkdir(dir("empty"));
    // A newest segment shorter than a header: the log has a segment but no readable base LSN.
    await mkdir(dir("headerless"));
    await writeFile(join(dir("headerless"), "0000000001.wal"), Buffer.alloc(10));
    await writeJsonWal(dir("no-slots"), 5);
    await writeJsonWal(dir("valid"), 5);
    expect((await runCli(["slots", dir("valid"), "create", "a"])).code).toBe(0);
    expect((await runCli(["slots", dir("valid"), "create", "b", "--at", "6", "--restart-lsn", "4"])).code).toBe(0);
    // A slot the writer invalidated: it held back more than maxSlotRetainedBytes when the log was truncated.
    const { wal } = await Wal.open<JsonValue>(dir("invalidated"), {
      codec: jsonCodec,
      segmentTargetBytes: 1024,
      maxSlotRetainedBytes: 1,
    });
    try {
      expect((await runCli(["slots", dir("invalidated"), "create", "stalled"])).code).toBe(0);
      for (let k = 0; k < 40; k++) await wal.commitTx([{ k, pad: "x".repeat(40) }, k]);
      expect(await wal.truncateUpTo(60)).toBeGreaterThan(0);
    } finally {
      await wal.close();
    }
    await writeJsonWal(dir("damaged"), 5);
    for (const name of ["a", "b"]) expect((await runCli(["slots", dir("damaged"), "create", name])).code).toBe(0);
    await writeFile(join(dir("damaged"), "slots", "b.slot"), Buffer.alloc(10, 7));

    const states = ["empty", "headerless", "no-slots", "valid", "invalidated", "damaged"];
    const shapes: [string, JsonShape][] = [];
    const statuses = new Set<unknown>();
    for (const state of states) {
      const run = await runCli(["slots", dir(state), "--json"]);
      expect(run.code, `${state}: ${run.stderr}`).toBe(state === "damaged" ? 2 : 0);
      const report = JSON.parse(run.stdout);
      for (const slot of report.slots) statuses.add(slot.status);
      shapes.push([state, shape(report)]);
    }
    // The states are what they say: valid and invalidated slots, a damaged one, and no readable base LSN.
    expect([...statuses].sort()).toEqual(["invalidated", "valid"]);
    expect(shapes.find(([s]) => s === "damaged")?.[1].keys).toContain("damaged[].message");
    expect(shapes.find(([s]) => s === "headerless")?.[1].nulls).toContain("oldestRetainedLsn");
    expectOneKeySet("slots", shapes);

    // create prints the slot as the listing does, on an empty log as on one with records.
    const created: [string, JsonShape][] = [];
    for (const [state, args] of [
      ["empty", ["e"]],
      ["no-slots", ["c"]],
      ["no-slots", ["d", "--at", "9", "--restart-lsn", "7"]],
    ] as const) {
      const run = await runCli(["slots", dir(state), "create", ...args, "--json"]);
      expect(run.code, run.stderr).toBe(0);
      created.push([`create in ${state} ${args.join(" ")}`, shape({ slots: [JSON.parse(run.stdout)] })]);
    }
    const listed = shapes.filter(([s]) => s === "valid" || s === "invalidated");
    expectOneKeySet("slots create", [...created, ...listed.map(([s, sh]) => [s, onlySlots(sh)] as const)]);
  });
});

/** The `slots[]` paths of a listing's shape: those a created slot's document, `{ slots: [slot] }`, is compared on. */
function onlySlots(s: JsonShape): JsonShape {
  const keep = (p: string) => p.startsWith("slots");
  return { keys: new Set([...s.keys].filter(keep)), nulls: new Set([...s.nulls].filter(keep)) };
}
