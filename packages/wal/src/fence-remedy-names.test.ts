/**
 * `withFenceRemedy` names, as left by a restore that did not finish, only segment files still named `.restoring`
 * (`0000000001.wal.restoring`); other files ending in `.restoring` are not a restore's and get the general wording.
 * A listing that fails in any way counts as none, and the refusal comes back with its code. The names are shown in
 * order, five at most; errors other than that refusal pass as they are.
 */

import { isWalError, WalError } from "@lora/wal-codec";
import type { WalFileSystem } from "@lora/wal-segment";
import { expect, it } from "vitest";
import { withFenceRemedy } from "./open-refusal-remedy.js";

const UNFINISHED = "a restore into this directory did not finish";
const GENERAL = "opening at a higher fence leaves out the records before it";

const refusal = () => new WalError("WAL_FENCE_TOO_LOW", "the log starts above the fence 0");

/** A file system whose only use here, listing the directory, shows `names`. */
function holding(names: readonly string[]): WalFileSystem {
  return { readdir: () => Promise.resolve([...names]) } as unknown as WalFileSystem;
}

it("counts only segment names still named .restoring", async () => {
  const fs = holding(["notes.restoring", "x.wal.restoring", "0000000003.wal", "0000000002.wal.restoring"]);
  const error = (await withFenceRemedy(refusal(), fs, "/w")) as WalError;
  expect(error.message).toContain(`${UNFINISHED} (1 segment file(s) still named .restoring: 0000000002.wal.restoring)`);

  const none = (await withFenceRemedy(refusal(), holding(["notes.restoring", "0000000003.wal"]), "/w")) as WalError;
  expect(none.message).toContain(GENERAL);
  expect(none.message).not.toContain(UNFINISHED);
});

it("counts exactly the names restore writes (the one parse, parseRestoringSegmentId), no look-alike", async () => {
  const names: readonly (readonly [string, boolean])[] = [
    ["0000000002.wal.restoring", true],
    ["12345678901.wal.restoring", true],
    ["2.wal.restoring", false],
    ["+2.wal.restoring", false],
    ["00000000002.wal.restoring", false],
    ["0000000000.wal.restoring", false],
    ["9007199254740992.wal.restoring", false],
    ["18446744073709551615.wal.restoring", false],
    ["0000000002.wal.restoring.tmp", false],
  ];
  for (const [name, counted] of names) {
    const error = (await withFenceRemedy(refusal(), holding([name, "0000000003.wal"]), "/w")) as WalError;
    expect(error.message.includes(`${UNFINISHED} (1 segment file(s) still named .restoring: ${name})`), name).toBe(
      counted,
    );
    expect(error.message.includes(GENERAL), name).toBe(!counted);
  }
});

it("a listing that throws, rejects or is not a list keeps the refusal", async () => {
  const listings: WalFileSystem["readdir"][] = [
    () => {
      throw new Error("sync");
    },
    () => Promise.reject(new Error("async")),
    () => Promise.resolve(undefined as unknown as string[]),
    () => Promise.resolve([7, null] as unknown as string[]),
  ];
  for (const readdir of listings) {
    const fs = { readdir } as unknown as WalFileSystem;
    const error = await withFenceRemedy(refusal(), fs, "/w");
    expect(isWalError(error, "WAL_FENCE_TOO_LOW")).toBe(true);
    expect((error as WalError).message).toContain(GENERAL);
  }
});

it("names the files in order, six of them: the first five then '...', and passes other errors as they are", async () => {
  const names = [6, 3, 1, 5, 2, 4].map((id) => `000000000${id}.wal.restoring`);
  const error = (await withFenceRemedy(refusal(), holding(names), "/w")) as WalError;
  const first = [1, 2, 3, 4, 5].map((id) => `000000000${id}.wal.restoring`).join(", ");
  expect(error.message).toContain(`(6 segment file(s) still named .restoring: ${first}, ...)`);

  const corrupt = new WalError("WAL_CORRUPT", "bad record at offset 40");
  expect(await withFenceRemedy(corrupt, holding(names), "/w")).toBe(corrupt);
  const plain = new Error("not a WalError");
  expect(await withFenceRemedy(plain, holding(names), "/w")).toBe(plain);
});
