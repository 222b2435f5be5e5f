/**
 * A restore run over the `*.restoring` leftovers of one that did not finish removes those it does not replace one by
 * one, once its own files are written and `dir` is fsynced. A crash between two of those removals leaves `dir` with
 * this restore's files and some of the old ones: still only `*.restoring` files, so `Wal.open` refuses it
 * (`WAL_MALFORMED`) and never opens it as an empty or shorter log, and restore run again (over the same range, or
 * the whole archive) finishes it: the whole history, no `.restoring` file left. And the removals are durable before
 * the first rename: no crash image holds a segment renamed into place beside a leftover of the other restore.
 */

import { Wal } from "@lora/wal";
import { isWalError, type JsonValue, jsonCodec } from "@lora/wal-codec";
import { decodeSegmentHeader } from "@lora/wal-segment";
import { SimFS } from "@lora/wal-segment/testing";
import { expect, it } from "vitest";
import { memoryArchive } from "./memory-archive.js";
import { type RestoreOptions, restore } from "./restore.js";
import { archivedLog } from "./test-support/archived-log.js";

const DIR = "/r";

/** What `Wal.open` at `fence` makes of `fs` (on a copy): the events it opens with, or the refusal's code. */
async function opened(fs: SimFS, fence: number): Promise<JsonValue[] | string> {
  const copy = fs.clone();
  try {
    const { wal, events } = await Wal.open<JsonValue>(DIR, { fs: copy, codec: jsonCodec, checkpointLsn: fence });
    await wal.close();
    return events;
  } catch (error) {
    return isWalError(error) ? error.code : String(error);
  }
}

it("a crash between the removals of stale leftovers leaves a directory opening refuses and restore finishes", async () => {
  const store = memoryArchive();
  const lsns = await archivedLog(new SimFS(), store, { commits: 24 });
  const events = lsns.map((_, i) => ({ i }));
  const whole = new SimFS();
  await restore({ store, dir: DIR, fs: whole });
  const names = whole
    .listSync(DIR)
    .filter((n) => n.endsWith(".wal"))
    .sort();
  expect(names.length).toBeGreaterThanOrEqual(5);
  // The re-run restores from the fence at the last commit before the second newest segment: it writes the two
  // newest names, which the leftovers (a restore that stopped before its first rename) do not hold.
  const bases = names.map((n) => decodeSegmentHeader(whole.readFileSync(`${DIR}/${n}`)).baseLsn);
  const fence = lsns.filter((lsn) => lsn < (bases.at(-2) as number)).at(-1) as number;
  const range: Pick<RestoreOptions, "fromLsn"> = { fromLsn: fence };
  const fenced = events.slice(lsns.indexOf(fence) + 1);

  // The leftovers: every older segment, durably, as `.restoring` files.
  const stale = names.slice(0, -2).map((n) => `${n}.restoring`);
  const fs = SimFS.withDir(DIR);
  for (const n of stale) fs.writeFileSync(`${DIR}/${n}`, whole.readFileSync(`${DIR}/${n.replace(".restoring", "")}`));
  expect(await opened(fs, fence)).toBe("WAL_MALFORMED");

  // Crash images after each removal of a leftover: between two of them, and after the last before dir's fsync.
  const images: { at: string; fs: SimFS }[] = [];
  // And after each rename into place: a renamed segment never sits beside a leftover of the other restore.
  const renamed: { at: string; fs: SimFS }[] = [];
  let unlinks = 0;
  const off = fs.onOperation((e) => {
    if (e.op === "rename") {
      for (const image of fs.crashImages({ maxImages: 8, seed: e.seq }))
        renamed.push({ at: `after rename ${e.path}: ${image.description}`, fs: image.fs });
    }
    if (e.op !== "unlink") return;
    unlinks++;
    for (const image of fs.crashImages({ maxImages: 8, seed: e.seq }))
      images.push({ at: `after unlink #${unlinks} ${e.path}: ${image.description}`, fs: image.fs });
  });
  const result = await restore({ store, dir: DIR, fs, ...range });
  off();
  expect(result.segments).toBe(2);
  expect(unlinks).toBe(stale.length);
  expect(fs.listSync(DIR).filter((n) => n.endsWith(".restoring"))).toEqual([]);
  expect(await opened(fs, fence)).toEqual(fenced);

  let between = 0;
  for (const { at, fs: image } of images) {
    const left = image.listSync(DIR).filter((n) => n !== ".lora-wal.lock");
    // Only `.restoring` files, this restore's two among them: refused, never an empty or a shorter log.
    expect(left.length, at).toBeGreaterThan(0);
    expect(
      left.filter((n) => !n.endsWith(".restoring")),
      at,
    ).toEqual([]);
    expect(left, at).toEqual(expect.arrayContaining(names.slice(-2).map((n) => `${n}.restoring`)));
    const staleLeft = left.filter((n) => stale.includes(n)).length;
    if (staleLeft > 0 && staleLeft < stale.length) between++;
    expect(await opened(image, fence), at).toBe("WAL_MALFORMED");
  }
  expect(between).toBeGreaterThan(0);
  expect(renamed.length).toBeGreaterThan(0);
  let inPlace = 0;
  for (const { at, fs: image } of renamed) {
    const left = image.listSync(DIR);
    if (!left.some((n) => n.endsWith(".wal"))) continue;
    inPlace++;
    expect(
      left.filter((n) => stale.includes(n)),
      at,
    ).toEqual([]);
  }
  expect(inPlace).toBeGreaterThan(0);

  // Each image finished by the restore run again: over the same range, and (on another copy) the whole archive.
  for (const { at, fs: image } of images) {
    const again = image.clone();
    await restore({ store, dir: DIR, fs: image, ...range });
    expect(
      image.listSync(DIR).filter((n) => n.endsWith(".restoring")),
      at,
    ).toEqual([]);
    expect(await opened(image, fence), at).toEqual(fenced);
    await restore({ store, dir: DIR, fs: again });
    expect(
      again.listSync(DIR).filter((n) => n.endsWith(".restoring")),
      at,
    ).toEqual([]);
    expect(await opened(again, 0), at).toEqual(events);
  }
});
