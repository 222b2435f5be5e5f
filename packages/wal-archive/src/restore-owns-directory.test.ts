/**
 * A restore and a `Wal` (or a second restore) never both own a log directory: restore takes the directory lock
 * `Wal.open` takes and holds it until it is done, so whichever comes second is refused with `WAL_LOCKED` and changes
 * nothing. Here in one process, on SimFS (whose lock `Wal.open` and restore share); across processes, on the kernel
 * lock, in test/restore-lock-across-processes.test.ts. (From a review: restore took no lock, so a `Wal.open` before
 * its first write created 0000000001.wal, which restore's rename then replaced; the handle went on acknowledging
 * commits into an unlinked file.)
 */

import { Wal } from "@lora/wal";
import { type JsonValue, jsonCodec } from "@lora/wal-codec";
import { SimFS } from "@lora/wal-segment/testing";
import { expect, it } from "vitest";
import { memoryArchive } from "./memory-archive.js";
import { restore } from "./restore.js";
import { archivedLog } from "./test-support/archived-log.js";
import { gatedStore } from "./test-support/gated-store.js";

const DIR = "/r";

/** Every file in `DIR` with its bytes (empty when `DIR` is missing), to show that nothing changed. */
function contents(fs: SimFS): Map<string, string> {
  const out = new Map<string, string>();
  let names: string[];
  try {
    names = fs.listSync(DIR);
  } catch {
    return out;
  }
  for (const n of names.sort()) out.set(n, Buffer.from(fs.readFileSync(`${DIR}/${n}`)).toString("hex"));
  return out;
}

async function archived(commits = 12): Promise<{ store: ReturnType<typeof memoryArchive>; events: JsonValue[] }> {
  const store = memoryArchive();
  const lsns = await archivedLog(new SimFS(), store, { commits });
  return { store, events: lsns.map((_, i) => ({ i })) };
}

async function openEvents(fs: SimFS): Promise<JsonValue[]> {
  const { wal, events } = await Wal.open<JsonValue>(DIR, { fs, codec: jsonCodec });
  await wal.close();
  return events;
}

it.each([
  ["before its first write", 1],
  ["after its first .restoring file", 2],
])(
  "a Wal.open while a restore is paused %s is refused WAL_LOCKED, changing nothing; the restore then finishes",
  async (_, nth) => {
    const { store, events } = await archived();
    const gated = gatedStore(store, "get", nth);
    const fs = new SimFS();
    const restoring = restore({ store: gated.store, dir: DIR, fs });
    await gated.reached;
    const before = contents(fs);
    expect([...before.keys()].every((n) => n.endsWith(".wal.restoring"))).toBe(true);
    expect(before.size).toBe(nth - 1);

    await expect(Wal.open<JsonValue>(DIR, { fs, codec: jsonCodec })).rejects.toMatchObject({ code: "WAL_LOCKED" });
    expect(contents(fs)).toEqual(before);

    gated.open();
    await restoring;
    expect(await openEvents(fs)).toEqual(events);
  },
);

it("a second restore while one is paused is refused WAL_LOCKED, changing nothing; the first then finishes", async () => {
  const { store, events } = await archived();
  const gated = gatedStore(store, "get", 2);
  const fs = new SimFS();
  const first = restore({ store: gated.store, dir: DIR, fs });
  await gated.reached;
  const before = contents(fs);

  await expect(restore({ store, dir: DIR, fs })).rejects.toMatchObject({ code: "WAL_LOCKED" });
  expect(contents(fs)).toEqual(before);

  gated.open();
  await first;
  expect(await openEvents(fs)).toEqual(events);
});

it.each([
  ["a missing directory", false],
  ["an empty directory", true],
])(
  "a restore into %s that a Wal opened while the restore listed the archive is refused WAL_LOCKED; the Wal's commits stay",
  async (_, mkdir) => {
    const { store } = await archived();
    const gated = gatedStore(store, "list", 1);
    const fs = new SimFS();
    if (mkdir) fs.mkdirpSync(DIR);
    const restoring = restore({ store: gated.store, dir: DIR, fs }).then(
      () => "restored",
      (e: unknown) => e,
    );
    await gated.reached;

    const { wal } = await Wal.open<JsonValue>(DIR, { fs, codec: jsonCodec });
    await wal.commitTx([{ mine: 1 }]);
    const before = contents(fs);
    gated.open();
    expect(await restoring).toMatchObject({ code: "WAL_LOCKED" });
    expect(contents(fs)).toEqual(before);

    // The handle still owns the directory: what it acknowledges, before and after, is what the log holds.
    await wal.commitTx([{ mine: 2 }]);
    await wal.close();
    expect(await openEvents(fs)).toEqual([{ mine: 1 }, { mine: 2 }]);
  },
);
