/**
 * Tier F's process view forwards the seam's optional operations, so code under test takes the path it takes on the
 * real file system: `invalidateSlot` links its marker into place only through a seam with `link` (without it, it
 * creates the name exclusively and writes it after, the path production never takes on Linux).
 */

import { createSlot, readSlot } from "@lora/wal";
import { invalidateSlot } from "@lora/wal-replay";
import { requiredOperationsOnly, SimFS } from "@lora/wal-segment/testing";
import { describe, expect, it } from "vitest";
import { FsView } from "./follow-fs-view.js";

const DIR = "/w";

async function durableFile(sim: SimFS, path: string, bytes: Uint8Array): Promise<void> {
  const f = await sim.open(path, "createExclusive");
  await f.write(bytes, 0);
  await f.sync();
  await f.close();
  await sim.syncDir(DIR);
}

describe("FsView", () => {
  it("has link and rmdir exactly when the seam under it has them", () => {
    const sim = SimFS.withDir(DIR);
    const view = new FsView(sim, "w");
    expect(typeof view.link).toBe("function");
    expect(typeof view.rmdir).toBe("function");
    // A seam with only the required operations.
    const bare = requiredOperationsOnly(sim, "bare");
    const over = new FsView(bare, "bare");
    expect(over.link).toBeUndefined();
    expect(over.rmdir).toBeUndefined();
  });

  it("forwards a file's identity (a follower tells a moved-aside segment by it), and refuses it once dead", async () => {
    const sim = SimFS.withDir(DIR);
    await durableFile(sim, `${DIR}/a`, Uint8Array.of(1, 2, 3));
    const view = new FsView(sim, "w");
    const file = await view.open(`${DIR}/a`, "read");
    const identity = await file.identity?.();
    expect(identity).toBeDefined();
    expect(identity).toBe((await view.stat(`${DIR}/a`))?.identity);
    const direct = await sim.open(`${DIR}/a`, "read");
    expect(identity).toBe(await direct.identity?.());
    await direct.close();
    view.kill();
    await expect(file.identity?.()).rejects.toMatchObject({ code: "WAL_IO" });
    await file.close();
  });

  it("a link is a mutating operation of the process: counted, a planned death right after it, refused once dead", async () => {
    const sim = SimFS.withDir(DIR);
    await durableFile(sim, `${DIR}/a`, Uint8Array.of(1, 2, 3));
    const view = new FsView(sim, "w");
    const deaths: string[] = [];
    view.dieAfter(1, (why) => deaths.push(why));
    await view.link?.(`${DIR}/a`, `${DIR}/b`);
    expect(view.ops).toBe(1);
    expect(view.links).toBe(1);
    expect(deaths).toEqual([`after op 1 (link ${DIR}/a -> ${DIR}/b)`]);
    expect(view.isDead).toBe(true);
    // The link landed (the page cache survives the process), its entry not yet durable.
    expect(sim.listSync(DIR)).toEqual(["a", "b"]);
    expect(sim.durableImage().listSync(DIR)).toEqual(["a"]);
    await expect(view.link?.(`${DIR}/a`, `${DIR}/c`)).rejects.toMatchObject({ details: { errno: "ESRCH" } });
    expect(sim.listSync(DIR)).toEqual(["a", "b"]);
    expect(sim.stats.links).toBe(1);
  });

  it("invalidateSlot through a view links its whole marker into place (the production path)", async () => {
    const sim = SimFS.withDir(DIR);
    const view = new FsView(sim, "writer");
    await createSlot(DIR, "s", { fs: view });
    await invalidateSlot(DIR, "s", { fs: view, oldestRetainedLsn: 7, retainedBytes: 100, reason: "lagging" });
    expect(view.links).toBe(1);
    expect(sim.stats.links).toBe(1);
    const slot = await readSlot(DIR, "s", { fs: sim.durableImage() });
    expect(slot.invalidated).toEqual({ oldestRetainedLsn: 7, retainedBytes: 100, reason: "lagging" });
  });
});
