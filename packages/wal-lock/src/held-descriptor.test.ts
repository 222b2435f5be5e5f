/**
 * The held descriptor on its own: when its ownership check calls the number ours and when not, and what its release
 * then closes. The fdinfo it reads is either the real `/proc` (a real lock, a real new open of the same file) or a
 * fake `<root>/self/fdinfo/<fd>` the test writes, so that "shows our lock", "shows no lock", "shows only a shared
 * lock" and "cannot be read" are each set up exactly, on a descriptor that stays open on the same file throughout.
 */

import { type BigIntStats, closeSync, fstatSync, mkdirSync, openSync, rmSync, statSync, writeFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, expect, it } from "vitest";
import { lockFileFree } from "../test/support.js";
import { lockBinding } from "./flock.js";
import { HeldDescriptor, sameIdentity } from "./held-descriptor.js";

const linuxOnly = process.platform !== "linux";
const unixOnly = process.platform === "win32";

const EXCLUSIVE = "lock:\t1: FLOCK  ADVISORY  WRITE 3512 fe:00:2146562 0 EOF\n";
const SHARED = "lock:\t1: FLOCK  ADVISORY  READ 3512 fe:00:2146562 0 EOF\n";
const HEAD = "pos:\t0\nflags:\t0100002\nmnt_id:\t30\nino:\t2146562\n";

let dir: string;
let path: string;
let otherPath: string;
/** Numbers this test opened (closed after it when still open on its files). */
let opened: number[];

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "lora-wal-held-descriptor-"));
  path = join(dir, "locked");
  otherPath = join(dir, "other");
  writeFileSync(path, "");
  writeFileSync(otherPath, "");
  opened = [];
});

afterEach(async () => {
  // Only a number still open on one of this test's files is closed: any other may be someone else's by now.
  const ours = [statSync(path, { bigint: true }), statSync(otherPath, { bigint: true })];
  for (const fd of new Set(opened)) {
    let s: BigIntStats;
    try {
      s = fstatSync(fd, { bigint: true });
    } catch {
      continue; // closed by the test itself
    }
    if (ours.some((id) => sameIdentity(s, id))) closeSync(fd);
  }
  await rm(dir, { recursive: true, force: true });
});

function openTracked(at: string): number {
  const fd = openSync(at, "r+");
  opened.push(fd);
  return fd;
}

function isOpen(fd: number): boolean {
  try {
    fstatSync(fd);
    return true;
  } catch {
    return false;
  }
}

/** A descriptor of `path` held with a fake fdinfo showing `shown` at acquisition (null: missing), and its setter. */
function heldWithFakeFdinfo(shown: string | null): {
  fd: number;
  held: HeldDescriptor;
  fdinfo: (text: string | null) => void;
} {
  const fd = openTracked(path);
  const root = join(dir, "proc");
  const fdinfoDir = join(root, "self", "fdinfo");
  mkdirSync(fdinfoDir, { recursive: true });
  const fdinfo = (text: string | null) => {
    if (text === null) rmSync(join(fdinfoDir, String(fd)), { force: true });
    else writeFileSync(join(fdinfoDir, String(fd)), text);
  };
  fdinfo(shown);
  const held = new HeldDescriptor(fd, fstatSync(fd, { bigint: true }), "the test file", path, root);
  return { fd, held, fdinfo };
}

it("identity is device and inode: either differing is another file", () => {
  const id = { dev: 7n, ino: 9n };
  expect(sameIdentity({ dev: 7n, ino: 9n }, id)).toBe(true);
  expect(sameIdentity({ dev: 8n, ino: 9n }, id)).toBe(false);
  expect(sameIdentity({ dev: 7n, ino: 10n }, id)).toBe(false);
  expect(sameIdentity(null, id)).toBe(false);
});

it.skipIf(linuxOnly)(
  "same identity, but a trusted fdinfo now shows no lock: reopened, and release leaves it",
  async () => {
    const { fd, held, fdinfo } = heldWithFakeFdinfo(HEAD + EXCLUSIVE);
    expect(held.check()).toBe("ours");
    fdinfo(HEAD);
    expect(held.check()).toBe("reopened");
    await held.release();
    expect(isOpen(fd)).toBe(true); // the number is someone else's open of the file now: not closed by us
    expect(held.check()).toBe("closed"); // forgotten
  },
);

it.skipIf(linuxOnly)("a trusted fdinfo that shows only a shared lock shows no lock of ours: reopened", () => {
  const { held, fdinfo } = heldWithFakeFdinfo(HEAD + EXCLUSIVE);
  fdinfo(HEAD + SHARED);
  expect(held.check()).toBe("reopened");
});

it.skipIf(linuxOnly)(
  "a trusted fdinfo that cannot be read now says nothing: still ours, and release closes it",
  async () => {
    const { fd, held, fdinfo } = heldWithFakeFdinfo(HEAD + EXCLUSIVE);
    fdinfo(null);
    expect(held.check()).toBe("ours");
    await held.release();
    expect(isOpen(fd)).toBe(false);
  },
);

it.skipIf(linuxOnly)(
  "an fdinfo that did not show the lock at acquisition is never read: identity alone decides",
  async () => {
    // Shown nothing, or only a shared lock, or missing altogether: each makes the fdinfo untrusted.
    for (const shown of [HEAD, HEAD + SHARED, null]) {
      const { fd, held, fdinfo } = heldWithFakeFdinfo(shown);
      fdinfo(HEAD); // "no lock" now: would be a loss if it were trusted
      expect(held.check(), String(shown)).toBe("ours");
      await held.release();
      expect(isOpen(fd)).toBe(false);
      // Released: a new open of the same file into the number (identity alone calls it ours) is not closed again.
      expect(openTracked(path)).toBe(fd);
      await held.release();
      expect(isOpen(fd)).toBe(true);
      closeSync(fd);
    }
    // And a procfs root with nothing under it.
    const fd = openTracked(path);
    const held = new HeldDescriptor(fd, fstatSync(fd, { bigint: true }), "the test file", path, join(dir, "no-proc"));
    expect(held.check()).toBe("ours");
  },
);

it.skipIf(linuxOnly)("the real fdinfo: a new open of the same file into the number is reopened", async () => {
  const fd = openTracked(path);
  expect(lockBinding().tryLock(fd)).toBe("locked");
  const held = new HeldDescriptor(fd, fstatSync(fd, { bigint: true }), "the test file", path, "/proc");
  expect(held.check()).toBe("ours");
  closeSync(fd);
  expect(openTracked(path)).toBe(fd); // the lowest free number: the same file opened again, without the lock
  expect(held.check()).toBe("reopened");
  await held.release();
  expect(isOpen(fd)).toBe(true);
  expect(lockFileFree(path)).toBe(true);
});

it.skipIf(unixOnly)(
  "a closed number is lost, and release leaves the number alone once another file has it",
  async () => {
    const fd = openTracked(path);
    const held = new HeldDescriptor(fd, fstatSync(fd, { bigint: true }), "the test file", path, "/proc");
    closeSync(fd);
    expect(held.check()).toBe("closed");
    expect(openTracked(otherPath)).toBe(fd);
    expect(held.check()).toBe("closed"); // forgotten: the other file behind the number is not looked at
    await held.release();
    expect(isOpen(fd)).toBe(true);
  },
);

it.skipIf(unixOnly)("release without a check first leaves a number closed and reused for another file", async () => {
  const fd = openTracked(path);
  const held = new HeldDescriptor(fd, fstatSync(fd, { bigint: true }), "the test file", path, "/proc");
  closeSync(fd);
  expect(openTracked(otherPath)).toBe(fd);
  await held.release();
  expect(isOpen(fd)).toBe(true);
});

it.skipIf(unixOnly)("a number reused for another file is reused, then forgotten", async () => {
  const fd = openTracked(path);
  const held = new HeldDescriptor(fd, fstatSync(fd, { bigint: true }), "the test file", path, "/proc");
  closeSync(fd);
  expect(openTracked(otherPath)).toBe(fd);
  expect(held.check()).toBe("reused");
  expect(held.check()).toBe("closed");
  await held.release();
  expect(isOpen(fd)).toBe(true);
});

it.skipIf(unixOnly)("release of our number unlocks it first, then closes it, once", async () => {
  const fd = openTracked(path);
  expect(lockBinding().tryLock(fd)).toBe("locked");
  const held = new HeldDescriptor(fd, fstatSync(fd, { bigint: true }), "the test file", path, "/proc");
  const unlocked: { fd: number; open: boolean }[] = [];
  await held.release((n) => {
    unlocked.push({ fd: n, open: isOpen(n) });
    throw new Error("an unlock that fails is ignored: the close releases the lock anyway");
  });
  expect(unlocked).toEqual([{ fd, open: true }]);
  expect(isOpen(fd)).toBe(false);
  expect(lockFileFree(path)).toBe(true);
  // Released: the number is not ours any more, whatever is opened into it next.
  expect(openTracked(path)).toBe(fd);
  await held.release(() => unlocked.push({ fd: -1, open: false }));
  expect(unlocked).toHaveLength(1);
  expect(isOpen(fd)).toBe(true);
  expect(held.check()).toBe("closed");
});

it("an fstat failure other than EBADF says nothing: the number is kept, and its release tries to close it", async () => {
  // A number Node refuses to pass to fstat (beyond a C int): fstat throws ERR_OUT_OF_RANGE, not EBADF.
  const huge = 2 ** 31;
  const held = new HeldDescriptor(huge, { dev: 1n, ino: 1n }, "the test file", path, join(dir, "no-proc"));
  const how = held.check();
  expect(how).toMatchObject({ error: { code: "ERR_OUT_OF_RANGE" } });
  expect(held.check()).toMatchObject({ error: { code: "ERR_OUT_OF_RANGE" } }); // still kept
  await expect(held.release()).rejects.toMatchObject({ code: "ERR_OUT_OF_RANGE" });
  await expect(held.release()).resolves.toBeUndefined(); // forgotten all the same
});
