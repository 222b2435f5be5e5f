/**
 * A restore into a directory that holds only the `*.restoring` files of a restore that did not finish (it crashed
 * before its first rename) removes them and restores; it still refuses a directory holding anything else beside
 * them, and leaves them in place when the archive cannot give the log.
 */

import { isWalError, type JsonValue, jsonCodec } from "@lora/wal-codec";
import { replayDir } from "@lora/wal-replay";
import { SimFS } from "@lora/wal-segment/testing";
import { expect, it } from "vitest";
import { memoryArchive } from "./memory-archive.js";
import { restore } from "./restore.js";
import { archivedLog } from "./test-support/archived-log.js";

const DIR = "/r";

/** A directory holding only a restore's `.restoring` files (one of them cut short, as a crash mid-write leaves). */
async function leftovers() {
  const store = memoryArchive();
  const lsns = await archivedLog(new SimFS(), store, { commits: 24 });
  const fs = new SimFS();
  const first = await restore({ store, dir: DIR, fs });
  for (const n of fs.listSync(DIR)) await fs.rename(`${DIR}/${n}`, `${DIR}/${n}.restoring`);
  const newest = fs.listSync(DIR).sort().at(-1) as string;
  fs.writeFileSync(`${DIR}/${newest}`, fs.readFileSync(`${DIR}/${newest}`).subarray(0, 40));
  return { fs, store, first, events: lsns.map((_, i) => ({ i })), names: fs.listSync(DIR).sort() };
}

async function replayed(fs: SimFS): Promise<JsonValue[]> {
  const events: JsonValue[] = [];
  for await (const tx of replayDir<JsonValue>(DIR, { fs, codec: jsonCodec })) events.push(...tx.events);
  return events;
}

it("removes them and restores the whole log", async () => {
  const { fs, store, first, events, names } = await leftovers();
  expect(names.length).toBeGreaterThan(3);
  expect(await restore({ store, dir: DIR, fs })).toEqual(first);
  expect(fs.listSync(DIR).filter((n) => n.endsWith(".restoring"))).toEqual([]);
  expect(await replayed(fs)).toEqual(events);
  // Removed durably: no crash image of the finished restore holds one again.
  for (const image of fs.crashImages({ maxImages: 32, seed: 3 }))
    expect(
      image.fs.listSync(DIR).filter((n) => n.endsWith(".restoring")),
      image.description,
    ).toEqual([]);
});

it("refuses them beside anything else, untouched", async () => {
  for (const other of ["0000000099.wal", "notes.txt"]) {
    const { fs, store, names } = await leftovers();
    fs.writeFileSync(`${DIR}/${other}`, new Uint8Array(1));
    const refused = await restore({ store, dir: DIR, fs }).catch((error: unknown) => error);
    expect(isWalError(refused) ? refused.code : refused, other).toBe("WAL_INVALID_OPTION");
    expect((refused as Error).message, other).toContain(`${DIR} is not empty`);
    expect(fs.listSync(DIR).sort(), other).toEqual([...names, other].sort());
  }
});

it("removes only names it writes itself: a look-alike, alone or beside them, is refused as not empty, untouched", async () => {
  const lookAlikes = [
    "1.wal.restoring",
    "+7.wal.restoring",
    "00000000001.wal.restoring",
    "0000000000.wal.restoring",
    "9007199254740992.wal.restoring",
    "notes.restoring",
    "0000000001.wal.restoring.tmp",
  ];
  for (const other of lookAlikes) {
    for (const beside of [true, false]) {
      const { fs, store, names } = await leftovers();
      if (!beside) for (const n of names) await fs.unlink(`${DIR}/${n}`);
      fs.writeFileSync(`${DIR}/${other}`, new Uint8Array(1));
      const refused = await restore({ store, dir: DIR, fs }).catch((error: unknown) => error);
      expect(isWalError(refused) ? refused.code : refused, other).toBe("WAL_INVALID_OPTION");
      expect((refused as Error).message, other).toContain(`${DIR} is not empty`);
      expect(fs.listSync(DIR).sort(), other).toEqual([...(beside ? names : []), other].sort());
    }
  }
});

it("leaves them in place when the archive cannot give the log", async () => {
  const { fs, names } = await leftovers();
  const refused = await restore({ store: memoryArchive(), dir: DIR, fs }).catch((error: unknown) => error);
  expect(isWalError(refused) ? refused.code : refused).toBe("WAL_ARCHIVE_MISSING");
  expect(fs.listSync(DIR).sort()).toEqual(names);
});
