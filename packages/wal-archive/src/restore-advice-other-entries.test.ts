/**
 * The refusal of a restore that did not finish says how to finish it. Restore refuses a directory holding anything
 * besides its own `*.restoring` leftovers (it never merges into a log), so where something else sits beside them (an
 * empty segment an older version's `Wal.open` made, a file a person put there) "run the restore again" alone cannot
 * work: the advice names those entries and says to move them out first. The lock file is not one of them: restore
 * takes that lock itself and accepts its file (a restore killed while holding it leaves it beside its leftovers), so
 * beside it the advice is to run the restore again. Following each advice as written ends with the whole history.
 */

import { Wal } from "@lora/wal";
import { isWalError, type JsonValue, jsonCodec } from "@lora/wal-codec";
import type { SimFS } from "@lora/wal-segment/testing";
import { expect, it } from "vitest";
import { restore } from "./restore.js";
import { unfinishedRestore } from "./test-support/unfinished-restore.js";

const DIR = "/r";

const unfinished = () => unfinishedRestore(DIR, 12);

async function refusal(fs: SimFS): Promise<Error> {
  const error = await Wal.open<JsonValue>(DIR, { fs, codec: jsonCodec }).then(
    () => new Error("opened"),
    (e: unknown) => e as Error,
  );
  if (!isWalError(error, "WAL_MALFORMED")) throw error;
  return error;
}

it.each([
  ["an empty segment", "0000000001.wal", new Uint8Array(0)],
  ["a note", "notes.txt", new TextEncoder().encode("hi")],
])(
  "beside %s, the advice names it and says to move it out first; doing so then restoring again opens the whole history",
  async (_, name, bytes) => {
    const { fs, store, events } = await unfinished();
    fs.writeFileSync(`${DIR}/${name}`, bytes);
    const error = await refusal(fs);
    expect(error.message).toContain(`move out what else it holds (1 entry: ${name})`);
    expect(error.message).not.toContain("run the restore again into this directory to finish it");

    // Restoring again without moving it out is refused, changing nothing.
    await expect(restore({ store, dir: DIR, fs })).rejects.toMatchObject({ code: "WAL_INVALID_OPTION" });
    await fs.unlink(`${DIR}/${name}`);
    await restore({ store, dir: DIR, fs });
    const { wal, events: got } = await Wal.open<JsonValue>(DIR, { fs, codec: jsonCodec });
    expect(got).toEqual(events);
    await wal.close();
  },
);

it.each([
  ["only the leftovers", false],
  ["the leftovers and a lock file", true],
])("with %s, the advice is to run the restore again, and doing so opens the whole history", async (_, lockFile) => {
  const { fs, store, events } = await unfinished();
  if (lockFile) fs.writeFileSync(`${DIR}/.lora-wal.lock`, new Uint8Array(0));
  const error = await refusal(fs);
  expect(error.message).toContain("run the restore again into this directory to finish it");
  expect(error.message).not.toContain("move out");
  await restore({ store, dir: DIR, fs });
  const { wal, events: got } = await Wal.open<JsonValue>(DIR, { fs, codec: jsonCodec });
  expect(got).toEqual(events);
  await wal.close();
});
