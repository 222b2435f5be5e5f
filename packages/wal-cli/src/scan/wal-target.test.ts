/**
 * A segment name whose file cannot be reached (a dangling symlink: segments moved to another disk that is gone) is
 * not a segment a live writer removed between the listing and the stat: `Wal.open` fails on it (`WAL_IO`), so the
 * commands must not judge the log without it. `verify` used to call such a directory clean (exit 0) even when the
 * missing file was the active segment, holding acknowledged commits.
 */

import { symlink } from "node:fs/promises";
import { join } from "node:path";
import { Wal } from "@lora/wal";
import { type JsonValue, jsonCodec } from "@lora/wal-codec";
import { createNodeFileSystem } from "@lora/wal-segment";
import { beforeEach, expect, it } from "vitest";
import { runCli, type TempDir, useJsonWal } from "../../test/helpers.js";
import { resolveTarget } from "./wal-target.js";

let tmp: TempDir;
let dir: string;
useJsonWal("lora-wal-cli-target", { transactions: 6, segmentTargetBytes: 512 }, (wal) => {
  ({ tmp, dir } = wal);
});
beforeEach(async () => {
  // The newest segment is a link to a file that is not there.
  await symlink(join(tmp.path, "gone", "0000000009.wal"), join(dir, "0000000009.wal"));
});

it("a listed segment that cannot be reached is WAL_IO (ENOENT), as Wal.open says, never left out", async () => {
  await expect(Wal.open<JsonValue>(dir, { codec: jsonCodec })).rejects.toMatchObject({ code: "WAL_IO" });
  await expect(resolveTarget(createNodeFileSystem(), dir)).rejects.toMatchObject({
    code: "WAL_IO",
    details: { path: join(dir, "0000000009.wal"), errno: "ENOENT" },
  });
  for (const command of ["verify", "inspect", "stat", "dump"]) {
    const run = await runCli([command, dir, "--codec", "json"]);
    expect(run.code, command).toBe(4);
    expect(run.stderr, command).toContain("0000000009.wal");
  }
});
