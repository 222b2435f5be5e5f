/** `close()` and `truncateUpTo()` issued together: the truncation runs under the lock, a later one is refused. */

import { listSegments } from "@lora/wal-segment";
import { describe, expect, it } from "vitest";
import { ev, useTempDirs } from "../test/support.js";
import { Wal } from "./wal.js";

const tempDir = useTempDirs();

describe("close while truncating", () => {
  it("truncateUpTo issued before close completes while the lock is still held; one issued after is refused", async () => {
    const dir = await tempDir();
    const { wal } = await Wal.open(dir, { segmentTargetBytes: 64 });
    for (let i = 0; i < 5; i++) await wal.commitTx([ev(i)]);
    const nodeFs = (await import("@lora/wal-segment")).createNodeFileSystem();
    const before = await listSegments(nodeFs, dir);
    const settled: string[] = [];
    const truncating = wal.truncateUpTo(wal.nextLsn() - 1).finally(() => settled.push("truncate"));
    const closing = wal.close().finally(() => settled.push("close"));
    const late = wal.truncateUpTo(1);
    const [t, , l] = await Promise.allSettled([truncating, closing, late]);
    expect(t).toMatchObject({ status: "fulfilled", value: before.length - 2 });
    expect(l).toMatchObject({ status: "rejected", reason: { code: "WAL_CLOSED" } });
    // The close waited for the truncation (which deletes under the lock) before it released the lock.
    expect(settled).toEqual(["truncate", "close"]);
    const after = await listSegments(nodeFs, dir);
    expect(after.map((s) => s.id)).toEqual(before.slice(-2).map((s) => s.id));
  });
});
