/**
 * `follow` of a directory with no segment files waits for a writer to create the log, as it always did; it now says
 * so once, on stderr, since such a path is more often one level off (or an archive) than a log not written yet.
 * stdout stays the feed, in text and in `--json`. The waits are counted in the follower's listings of the directory
 * (through the read-only seam's base), not in time.
 */

import { mkdir, writeFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { Wal } from "@lora/wal";
import { fsArchive } from "@lora/wal-archive";
import { type JsonValue, jsonCodec } from "@lora/wal-codec";
import { afterEach, describe, expect, it, vi } from "vitest";
import { main } from "../src/main.js";
import { archivedLog } from "./archive-helpers.js";
import { type CliRun, type TempDir, useJsonWal, writeJsonWal } from "./helpers.js";
import { resetScanHooks, scanHooks } from "./scan-seam.js";

vi.mock("../src/scan/read-only-fs.js", async (importOriginal) =>
  (await import("./scan-seam.js")).withHookedBase(await importOriginal()),
);

afterEach(resetScanHooks);

/** Listings of the directory a follow waits on before the test acts: the follower has looked again and again. */
const LISTINGS = 4;

/** Run `lora-wal argv`, interruptible (as by SIGINT) with the function handed to `act`. */
async function runInterruptible(argv: string[], act: (interrupt: () => void) => void): Promise<CliRun> {
  let stdout = "";
  let stderr = "";
  const listeners = new Set<() => void>();
  act(() => {
    for (const listener of listeners) listener();
  });
  const code = await main(argv, {
    stdout: {
      write: (s: string) => {
        stdout += s;
        return true;
      },
      isTTY: false,
    },
    stderr: {
      write: (s: string) => {
        stderr += s;
        return true;
      },
      isTTY: false,
    },
    env: {},
    interrupts: (listener) => {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  });
  return { code, stdout, stderr };
}

/** Call `then` once, after the `LISTINGS`-th listing of `dir`. */
function afterListings(dir: string, then: () => void): void {
  let listings = 0;
  scanHooks.afterReaddir = (path) => {
    if (resolve(path) === resolve(dir) && ++listings === LISTINGS) then();
  };
}

describe("follow of a directory with no segment files", () => {
  let tmp: TempDir;
  let dir: string;
  useJsonWal("lora-wal-follow-empty", {}, (wal) => {
    ({ tmp, dir } = wal);
  });

  it("notes once that it waits, then follows the log a writer creates there", async () => {
    const app = join(tmp.path, "app");
    await mkdir(app);
    await writeFile(join(app, "snapshot.json"), "{}");
    let wrote: Promise<void> | undefined;
    // A writer creates the log once the follow has looked for one a few times; the follow prints its transaction.
    afterListings(app, () => {
      wrote = (async () => {
        const { wal } = await Wal.open<JsonValue>(app, { codec: jsonCodec });
        await wal.commitTx([{ first: true }]);
        await wal.close();
      })();
    });
    const run = await runInterruptible(["follow", app, "--codec", "json", "--json", "--count", "1"], () => undefined);
    await wrote;
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toBe(
      `lora-wal: note: no segment files (*.wal) in ${app} yet: follow waits for a writer to create them; if a log should be here, check the path (is it in a subdirectory?)\n`,
    );
    expect(JSON.parse(run.stdout)).toMatchObject({ beginLsn: 1, commitLsn: 3, events: [{ first: true }] });
  });

  it("an archive directory: the archive's note instead; SIGINT ends the wait as ever", async () => {
    const archive = join(tmp.path, "backup");
    await archivedLog(dir, fsArchive(archive), 2);
    const run = await runInterruptible(["follow", archive, "--codec", "json"], (interrupt) =>
      afterListings(archive, interrupt),
    );
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toBe(
      `lora-wal: note: ${archive} holds the archive of a log, not a log (read it with lora-wal archive ls or archive verify; lora-wal restore rebuilds a log from it); follow waits for segment files\n`,
    );
    expect(run.stdout).toBe("");
  });

  it("a log: no note", async () => {
    await writeJsonWal(dir, 1);
    const run = await runInterruptible(["follow", dir, "--codec", "json", "--count", "1"], () => undefined);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toBe("");
  });
});
