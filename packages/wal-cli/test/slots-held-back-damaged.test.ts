/**
 * What a slot holds back when an unsealed segment is damaged part-way: the records past the damage are still in the
 * file (and what truncation would keep for the slot), so they count. Reading the segment only up to its first damaged
 * record counted a 30-transaction segment as its 32-byte header once one byte of its first record was flipped.
 */

import { readFile, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { SlotReport } from "../src/index.js";
import { runCli, segmentFiles, useJsonWal } from "./helpers.js";

describe("lora-wal slots beside a damaged unsealed segment", () => {
  let dir: string;
  useJsonWal("lora-wal-slots-held-back-damaged", { transactions: 30 }, (wal) => {
    dir = wal.dir;
  });

  it("counts the segment's bytes past the damage, as its file holds no zeros to leave out", async () => {
    expect((await runCli(["slots", dir, "create", "all"])).code).toBe(0);
    const [name] = await segmentFiles(dir);
    const path = join(dir, name as string);
    const size = (await stat(path)).size;
    const bytes = await readFile(path);
    bytes[40] = (bytes[40] as number) ^ 0xff; // inside the first record: a bit flip, the rest of the log intact
    await writeFile(path, bytes);
    const result = await runCli(["slots", dir, "--json"]);
    const report = JSON.parse(result.stdout) as SlotReport;
    expect(report.slots[0]?.heldBackBytes).toBe(size);
    expect(report.bytes).toBe(size);
  });
});
