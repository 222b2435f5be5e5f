/**
 * Two `invalidateSlot` calls racing on one slot: the second, coming while the first had created the marker and not
 * yet written its body, answered "details unreadable (cut short by a crash?)" for a slot invalidated once and whole.
 * The marker is now written whole under a temporary name, fsynced, and linked into place, so its name never shows an
 * unwritten body. Driven by a seam that holds the first caller between creating its file and writing it, no timing.
 */

import { isWalError, type WalError } from "@lora/wal-codec";
import type { WalFile, WalFileSystem } from "@lora/wal-segment";
import { requiredOperationsOnly, SimFS, wrapFileSystem } from "@lora/wal-segment/testing";
import { describe, expect, it } from "vitest";
import { createSlot, dropSlot, invalidateSlot, readSlot, type SlotState } from "./replication-slots.js";

const DIR = "/log";
const SLOTS = "/log/slots";

/** `sim` with the first write of a file created under the name of slot `s`'s marker (or its temp) held. */
function holdingFirstMarkerWrite(sim: SimFS) {
  let reached: () => void = () => undefined;
  let release: () => void = () => undefined;
  const held = new Promise<void>((resolve) => {
    reached = resolve;
  });
  const gate = new Promise<void>((resolve) => {
    release = resolve;
  });
  let holding = true;
  const fs: WalFileSystem = wrapFileSystem(sim, (file: WalFile, mode) => {
    if (mode !== "createExclusive" || !file.path.startsWith(`${SLOTS}/s.invalidated`)) return file;
    return new Proxy(file, {
      get(target, key) {
        if (key === "write") {
          return async (data: Uint8Array, position: number) => {
            if (holding) {
              holding = false;
              reached();
              await gate;
            }
            await target.write(data, position);
          };
        }
        if (key === "writeSync") return undefined;
        const value: unknown = Reflect.get(target, key, target);
        return typeof value === "function" ? value.bind(target) : value;
      },
    });
  });
  return { fs, held, release };
}

describe("invalidateSlot, two calls racing", () => {
  it("the second, coming while the first has created its file and not written it, answers complete details", async () => {
    const sim = SimFS.withDir(DIR);
    const created = await createSlot(DIR, "s", { fs: sim });
    const first = { oldestRetainedLsn: 120, retainedBytes: 65_536, reason: "first" };
    const second = { oldestRetainedLsn: 999, retainedBytes: 1, reason: "second" };
    const { fs: holding, held, release } = holdingFirstMarkerWrite(sim);

    const firstCall = invalidateSlot(DIR, "s", { ...first, fs: holding });
    await held;
    const secondState = await invalidateSlot(DIR, "s", { ...second, fs: sim });
    release();
    const firstState = await firstCall;

    // Invalidated once, with the details of whichever marker took the name, and every answer complete.
    const stored: SlotState = await readSlot(DIR, "s", { fs: sim });
    expect(secondState).toEqual(stored);
    expect([first, second]).toContainEqual(stored.invalidated);
    expect(firstState).toEqual(stored);
    expect({ ...stored, invalidated: null }).toEqual(created);
    expect(await readSlot(DIR, "s", { fs: sim.durableImage() })).toEqual(stored);
    // Nothing left beside the slot's two files.
    expect(sim.listSync(SLOTS)).toEqual(["s.invalidated", "s.slot"]);
  });

  it("a seam without link keeps the old way: one exclusive create of the marker, then its body", async () => {
    const sim = SimFS.withDir(DIR);
    await createSlot(DIR, "s", { fs: sim });
    const linkless = requiredOperationsOnly(sim, "linkless");
    const inv = { oldestRetainedLsn: 5, retainedBytes: 7, reason: "r" };
    expect((await invalidateSlot(DIR, "s", { ...inv, fs: linkless })).invalidated).toEqual(inv);
    expect((await readSlot(DIR, "s", { fs: sim.durableImage() })).invalidated).toEqual(inv);
    expect(sim.listSync(SLOTS)).toEqual(["s.invalidated", "s.slot"]);
  });

  it("a file system that cannot link (EPERM, as vfat answers) gets the old way too", async () => {
    const sim = SimFS.withDir(DIR);
    await createSlot(DIR, "s", { fs: sim });
    const fault = sim.injectFault({ op: "link", errno: "EPERM" });
    const inv = { oldestRetainedLsn: 5, retainedBytes: 7, reason: "r" };
    expect((await invalidateSlot(DIR, "s", { ...inv, fs: sim })).invalidated).toEqual(inv);
    expect(fault.hits).toBe(1);
    expect((await readSlot(DIR, "s", { fs: sim.durableImage() })).invalidated).toEqual(inv);
    expect(sim.listSync(SLOTS)).toEqual(["s.invalidated", "s.slot"]);
  });

  it("another failure of the link is the call's, and leaves the slot valid with no temp file", async () => {
    const sim = SimFS.withDir(DIR);
    const created = await createSlot(DIR, "s", { fs: sim });
    sim.injectFault({ op: "link", errno: "EIO" });
    const e = await invalidateSlot(DIR, "s", { oldestRetainedLsn: 5, retainedBytes: 7, reason: "r", fs: sim }).then(
      () => expect.unreachable("invalidateSlot resolved"),
      (error: unknown) => error as WalError,
    );
    expect(isWalError(e, "WAL_IO")).toBe(true);
    expect(e.details.errno).toBe("EIO");
    expect(await readSlot(DIR, "s", { fs: sim })).toEqual(created);
    expect(sim.listSync(SLOTS)).toEqual(["s.slot"]);
  });
});

/** `sim` with the first `syncDir` of `slots/` held until `release` (the first caller's, after its link). */
function holdingFirstSlotsSync(sim: SimFS) {
  let reached: () => void = () => undefined;
  let release: () => void = () => undefined;
  const held = new Promise<void>((resolve) => {
    reached = resolve;
  });
  const gate = new Promise<void>((resolve) => {
    release = resolve;
  });
  let holding = true;
  const fs = wrapFileSystem(sim, (f) => f, {
    syncDir: async (path: string) => {
      if (holding && path === SLOTS) {
        holding = false;
        reached();
        await gate;
      }
      await sim.syncDir(path);
    },
  });
  return { fs, held, release };
}

describe("invalidateSlot resolves only once the marker is durable", () => {
  it("a second call finding the slot already invalidated, while the first has not fsynced slots/ yet", async () => {
    const sim = SimFS.withDir(DIR);
    await createSlot(DIR, "s", { fs: sim });
    const first = { oldestRetainedLsn: 120, retainedBytes: 65_536, reason: "first" };
    const { fs: holding, held, release } = holdingFirstSlotsSync(sim);

    const firstCall = invalidateSlot(DIR, "s", { ...first, fs: holding });
    await held; // the marker is linked, its entry not yet durable
    const secondState = await invalidateSlot(DIR, "s", {
      oldestRetainedLsn: 9,
      retainedBytes: 1,
      reason: "x",
      fs: sim,
    });
    expect(secondState.invalidated).toEqual(first);
    // What the second call answered survives a crash now, before the first call's sync.
    expect((await readSlot(DIR, "s", { fs: sim.durableImage() })).invalidated).toEqual(first);
    release();
    expect((await firstCall).invalidated).toEqual(first);
  });
});

/** A gate: `reached` once a call got to it, `release` lets it on. */
function gate() {
  let reach: () => void = () => undefined;
  let release: () => void = () => undefined;
  const reached = new Promise<void>((resolve) => {
    reach = resolve;
  });
  const open = new Promise<void>((resolve) => {
    release = resolve;
  });
  const pass = async () => {
    reach();
    await open;
  };
  return { reached, release, pass };
}

describe("invalidateSlot, the caller whose link finds the name taken (EEXIST)", () => {
  it("resolves only once the winner's marker entry is durable: it fsyncs slots/ itself", async () => {
    const sim = SimFS.withDir(DIR);
    await createSlot(DIR, "s", { fs: sim });
    const first = { oldestRetainedLsn: 120, retainedBytes: 65_536, reason: "first" };
    // The first caller is held at its link, then (linked) at its fsync of slots/; the second at its link.
    const firstLink = gate();
    const firstSync = gate();
    const secondLink = gate();
    const firstFs = wrapFileSystem(sim, (file) => file, {
      link: async (existing: string, newPath: string) => {
        await firstLink.pass();
        await sim.link(existing, newPath);
      },
      syncDir: async (path: string) => {
        if (path === SLOTS) await firstSync.pass();
        await sim.syncDir(path);
      },
    });
    const secondFs = wrapFileSystem(sim, (file) => file, {
      link: async (existing: string, newPath: string) => {
        await secondLink.pass();
        await sim.link(existing, newPath);
      },
    });
    const firstCall = invalidateSlot(DIR, "s", { ...first, fs: firstFs });
    await firstLink.reached;
    // The second reads the slot valid, writes its own marker's temp, and comes to its link.
    const secondCall = invalidateSlot(DIR, "s", { oldestRetainedLsn: 9, retainedBytes: 1, reason: "x", fs: secondFs });
    await secondLink.reached;
    firstLink.release();
    await firstSync.reached; // the first's marker is linked, its entry not durable
    expect((await readSlot(DIR, "s", { fs: sim.durableImage() })).invalidated).toBeNull();
    secondLink.release();
    const secondState = await secondCall; // its link failed EEXIST
    expect(secondState.invalidated).toEqual(first);
    expect(sim.stats.links).toBe(2);
    // What it answered survives a crash now, while the first call is still held before its own fsync.
    expect((await readSlot(DIR, "s", { fs: sim.durableImage() })).invalidated).toEqual(first);
    firstSync.release();
    expect((await firstCall).invalidated).toEqual(first);
    expect(sim.listSync(SLOTS)).toEqual(["s.invalidated", "s.slot"]);
  });
});

describe("invalidateSlot racing dropSlot", () => {
  it("the drop removes the marker's temp before its link: WAL_SLOT_NOT_FOUND, nothing left", async () => {
    const sim = SimFS.withDir(DIR);
    await createSlot(DIR, "s", { fs: sim });
    const fs = wrapFileSystem(sim, (f) => f, {
      link: async (existing: string, newPath: string) => {
        await dropSlot(DIR, "s", { fs: sim });
        return sim.link(existing, newPath);
      },
    });
    await expect(
      invalidateSlot(DIR, "s", { oldestRetainedLsn: 5, retainedBytes: 7, reason: "r", fs }),
    ).rejects.toMatchObject({ code: "WAL_SLOT_NOT_FOUND" });
    expect(sim.listSync(SLOTS)).toEqual([]);
  });

  it("dropped and created again before the link: the new slot is invalidated", async () => {
    const sim = SimFS.withDir(DIR);
    await createSlot(DIR, "s", { fs: sim });
    let again = 0;
    const fs = wrapFileSystem(sim, (f) => f, {
      link: async (existing: string, newPath: string) => {
        if (again++ === 0) {
          await dropSlot(DIR, "s", { fs: sim });
          await createSlot(DIR, "s", { fs: sim });
        }
        return sim.link(existing, newPath);
      },
    });
    const inv = { oldestRetainedLsn: 5, retainedBytes: 7, reason: "r" };
    expect((await invalidateSlot(DIR, "s", { ...inv, fs })).invalidated).toEqual(inv);
    expect((await readSlot(DIR, "s", { fs: sim.durableImage() })).invalidated).toEqual(inv);
    expect(sim.listSync(SLOTS)).toEqual(["s.invalidated", "s.slot"]);
  });
});
