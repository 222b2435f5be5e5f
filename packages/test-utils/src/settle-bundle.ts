import { createHash, type Hash } from "node:crypto";
import { lstat, readdir, readFile, readlink, rename, rm } from "node:fs/promises";
import { dirname, join } from "node:path";

/**
 * Move a freshly built bundle directory to a name made from its contents (`prefix` + a hash of every file's path and
 * bytes and every symlink's target) and return that name. Child processes run from a bundle after the test that made
 * it has its path, and vitest ends its workers without running exit handlers, so no one can remove it at the end:
 * instead every run of the same sources lands in the same directory, and the temporary directory holds one bundle per
 * version of the sources rather than one per test run. When another worker settled the same bundle first, this one's
 * copy is removed and the existing directory (identical by construction) is returned.
 */
export async function settleBundle(built: string, prefix: string): Promise<string> {
  const hash = createHash("sha256");
  await hashTree(hash, built, "");
  const settled = join(dirname(built), `${prefix}${hash.digest("hex").slice(0, 20)}`);
  try {
    await rename(built, settled);
  } catch (error) {
    // Linux refuses to rename a directory over a non-empty one (ENOTEMPTY; EEXIST elsewhere): it is already there.
    const code = (error as NodeJS.ErrnoException).code;
    if (code !== "ENOTEMPTY" && code !== "EEXIST") throw error;
    await rm(built, { recursive: true, force: true });
  }
  return settled;
}

/** Every entry under `dir`, in name order; a symlink by its target (Node's recursive readdir follows symlinks). */
async function hashTree(hash: Hash, dir: string, prefix: string): Promise<void> {
  for (const name of (await readdir(dir)).sort()) {
    const path = join(dir, name);
    const stats = await lstat(path);
    hash.update(`${prefix}${name}\0`);
    if (stats.isSymbolicLink()) hash.update(`link:${await readlink(path)}\0`);
    else if (stats.isDirectory()) await hashTree(hash, path, `${prefix}${name}/`);
    else hash.update(await readFile(path));
  }
}
