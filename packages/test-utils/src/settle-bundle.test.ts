import { mkdir, mkdtemp, readdir, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, expect, it } from "vitest";
import { settleBundle } from "./settle-bundle.js";

let parent: string;
beforeEach(async () => {
  parent = await mkdtemp(join(tmpdir(), "lora-wal-settle-"));
});
afterEach(() => rm(parent, { recursive: true, force: true }));

async function built(files: Record<string, string>, link?: string): Promise<string> {
  const dir = await mkdtemp(join(parent, "build-"));
  for (const [name, text] of Object.entries(files)) await writeFile(join(dir, name), text);
  if (link !== undefined) {
    await mkdir(join(dir, "node_modules"));
    await symlink(link, join(dir, "node_modules", "dep"), "dir");
  }
  return dir;
}

it("builds of the same contents settle in one directory, and the copy built second is removed", async () => {
  const first = await settleBundle(await built({ "a.js": "1", "b.js": "2" }, parent), "bundle-");
  const second = await settleBundle(await built({ "a.js": "1", "b.js": "2" }, parent), "bundle-");
  expect(second).toBe(first);
  expect((await readdir(parent)).sort()).toEqual([first.slice(parent.length + 1)]);
  expect((await readdir(first)).sort()).toEqual(["a.js", "b.js", "node_modules"]);
  expect(await readdir(join(first, "node_modules"))).toEqual(["dep"]);
});

it("a different byte, file name or symlink target settles elsewhere", async () => {
  const base = await settleBundle(await built({ "a.js": "1" }), "bundle-");
  const byte = await settleBundle(await built({ "a.js": "2" }), "bundle-");
  const name = await settleBundle(await built({ "c.js": "1" }), "bundle-");
  const link = await settleBundle(await built({ "a.js": "1" }, tmpdir()), "bundle-");
  const otherLink = await settleBundle(await built({ "a.js": "1" }, parent), "bundle-");
  expect(new Set([base, byte, name, link, otherLink]).size).toBe(5);
  expect((await readdir(parent)).every((n) => n.startsWith("bundle-"))).toBe(true);
});
