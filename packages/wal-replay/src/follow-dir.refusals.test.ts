/**
 * `followDir`'s refusals change nothing: a slot name that cannot be one is refused at once, and `confirm` of a
 * transaction the follower has not delivered leaves the slot where it was (a resume then gets every transaction
 * after the last one really confirmed); a follower opened without a slot refuses `confirm` and creates nothing.
 */

import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type JsonValue, jsonCodec } from "@lora/wal-codec";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { tx, writeSegment } from "../test/build-log.js";
import { followDir } from "./follow-dir.js";
import { createSlot, invalidateSlot, readSlot } from "./replication-slots.js";

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "follow-refusals-"));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("followDir refusals", () => {
  it.each(["../escape", "", "a/b", "x".repeat(65), 7])("refuses slot %j at once, with WAL_INVALID_OPTION", (slot) => {
    expect(() => followDir(dir, { codec: jsonCodec, slot: slot as string })).toThrow(
      expect.objectContaining({ code: "WAL_INVALID_OPTION", message: expect.stringContaining("slot") }),
    );
  });

  it("refuses to confirm a commit it has not delivered, and the slot stays put", async () => {
    // Three committed transactions, sealed (so all of it is durable): commit LSNs 3, 6 and 9.
    await writeSegment(dir, 1, 1, [...tx(1, [{ i: 0 }]), ...tx(4, [{ i: 1 }]), ...tx(7, [{ i: 2 }])], { sealed: true });
    const commits = [3, 6, 9];
    await createSlot(dir, "s");

    const first = followDir<JsonValue>(dir, { codec: jsonCodec, slot: "s", watch: false });
    const one = await first.next();
    expect(one.value?.commitLsn).toBe(commits[0]);
    // One LSN past the delivered commit is already beyond it.
    const next = (commits[0] as number) + 1;
    for (const beyond of [
      next,
      { commitLsn: next, restartLsn: 1 },
      commits[2] as number,
      { commitLsn: commits[1] as number, restartLsn: 1 },
    ]) {
      await expect(first.confirm(beyond)).rejects.toMatchObject({ code: "WAL_INVALID_ARGUMENT" });
    }
    expect((await readSlot(dir, "s")).confirmedLsn).toBe(0);
    await first.confirm(one.value as NonNullable<typeof one.value>);
    await first.return();

    const stop = new AbortController();
    const again = followDir<JsonValue>(dir, { codec: jsonCodec, slot: "s", watch: false, signal: stop.signal });
    const rest: number[] = [];
    for await (const tx of again) {
      rest.push(tx.commitLsn);
      if (rest.length === 2) stop.abort();
    }
    expect(rest).toEqual(commits.slice(1));
  });

  it("refuses confirm on a follower opened without a slot, creating nothing, and keeps delivering", async () => {
    await writeSegment(dir, 1, 1, [...tx(1, [{ i: 0 }]), ...tx(4, [{ i: 1 }])], { sealed: true });
    const before = (await readdir(dir)).sort();
    const follower = followDir<JsonValue>(dir, { codec: jsonCodec, watch: false });
    const one = await follower.next();
    expect(one.value?.commitLsn).toBe(3);
    for (const position of [3, one.value as NonNullable<typeof one.value>]) {
      await expect(follower.confirm(position)).rejects.toMatchObject({
        code: "WAL_INVALID_ARGUMENT",
        message: "confirm needs a follower opened with a slot",
      });
    }
    expect((await readdir(dir)).sort()).toEqual(before);
    expect((await follower.next()).value?.commitLsn).toBe(6);
    await follower.return();
  });

  it("refuses to start from an invalidated slot while the log still holds every record it needs", async () => {
    // Invalidated, but its segments not yet deleted (a crash between the marker and the deletion, or a plan not run).
    await writeSegment(dir, 1, 1, [...tx(1, [{ i: 0 }]), ...tx(4, [{ i: 1 }])], { sealed: true });
    await createSlot(dir, "s");
    await invalidateSlot(dir, "s", { oldestRetainedLsn: 4, retainedBytes: 10, reason: "too far behind" });
    const follower = followDir<JsonValue>(dir, { codec: jsonCodec, slot: "s", watch: false });
    await expect(follower.next()).rejects.toMatchObject({ code: "WAL_SLOT_INVALIDATED", details: { slot: "s" } });
    await follower.return();
  });
});
