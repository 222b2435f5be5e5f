/**
 * The library functions behind the commands refuse an option with no printable form with `WAL_INVALID_OPTION`, like
 * any other bad value, before reading anything. The refusals printed it with `String()` (a `TypeError` for a
 * null-prototype object; a throwing `toString` escaped) or `JSON.stringify` (a `TypeError` for a bigint or a cycle),
 * so the caller got an uncoded error instead.
 */

import { expectEachRefused as expectRefused } from "@lora/test-utils";
import { describe, it } from "vitest";
import { dumpRecords, inspectDir, statDir, verifyDir } from "../src/index.js";
import { useJsonWal } from "./helpers.js";

describe("options with no printable form", () => {
  let dir: string;
  useJsonWal("lora-wal-cli-unprintable", { transactions: 2 }, (wal) => {
    dir = wal.dir;
  });

  it("dumpRecords refuses them in its codec, bounds, limit and kinds", async () => {
    for (const option of ["codec", "fromLsn", "toLsn", "tx", "limit", "kinds"]) {
      await expectRefused("WAL_INVALID_OPTION", (v) => dumpRecords(dir, { [option]: v }).next());
    }
  });

  it("inspectDir, statDir and verifyDir refuse them as a codec, and verifyDir as a checkpointLsn", async () => {
    for (const command of [inspectDir, statDir, verifyDir]) {
      await expectRefused("WAL_INVALID_OPTION", (codec) => command(dir, { codec: codec as "json" }));
    }
    await expectRefused("WAL_INVALID_OPTION", (lsn) => verifyDir(dir, { checkpointLsn: lsn as number }));
  });
});
