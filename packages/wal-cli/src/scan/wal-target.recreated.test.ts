/**
 * A segment removed and created anew under the same name between a listing and its stat (a restarting writer's
 * recovery recreates a headerless newest segment) is still listed, but it is no dangling symlink: a new stat finds
 * it, so the directory is listed again. Only a name that stays listed and stays unreachable is refused.
 */

import { symlink } from "node:fs/promises";
import { join } from "node:path";
import { createNodeFileSystem } from "@lora/wal-segment";
import { wrapFileSystem } from "@lora/wal-segment/testing";
import { expect, it } from "vitest";
import { type TempDir, useJsonWal } from "../../test/helpers.js";
import { resolveTarget } from "./wal-target.js";

let tmp: TempDir;
let dir: string;
useJsonWal("lora-wal-cli-recreated", { transactions: 40, segmentTargetBytes: 1024 }, (wal) => {
  ({ tmp, dir } = wal);
});

/** The Node seam, with the first stat of `path` finding nothing: it was gone for that moment. */
function goneOnce(path: string) {
  const node = createNodeFileSystem();
  let gone = true;
  return wrapFileSystem(node, (file) => file, {
    async stat(p) {
      if (p === path && gone) {
        gone = false;
        return null;
      }
      return await node.stat(p);
    },
  });
}

it("a segment gone for one stat and there again is listed anew, not refused as unreachable", async () => {
  const names = (await createNodeFileSystem().readdir(dir)).filter((n) => n.endsWith(".wal")).sort();
  expect(names.length).toBeGreaterThan(2);
  const newest = join(dir, names.at(-1) as string);
  const target = await resolveTarget(goneOnce(newest), dir);
  expect(target.segments.map((s) => s.name)).toEqual(names);
});

it("a name that stays listed and stays unreachable (a dangling symlink) is still WAL_IO at once", async () => {
  const names = (await createNodeFileSystem().readdir(dir)).filter((n) => n.endsWith(".wal")).sort();
  const next = String(Number.parseInt(names.at(-1) as string, 10) + 1).padStart(10, "0");
  await symlink(join(tmp.path, "nowhere"), join(dir, `${next}.wal`));
  await expect(resolveTarget(createNodeFileSystem(), dir)).rejects.toMatchObject({
    code: "WAL_IO",
    message: expect.stringContaining("is listed but cannot be reached"),
  });
});
