/** Finding this process's own descriptor on a file, as a test that closes it behind its owner's back must. */

import { fstatSync, readdirSync, statSync } from "node:fs";

/**
 * The one descriptor this process has open on `path`, matched by device and inode through `/dev/fd` (Linux and
 * macOS). Throws when there is none or more than one: a test that closes the wrong one proves nothing.
 */
export function openDescriptorOf(path: string): number {
  const want = statSync(path, { bigint: true });
  const found: number[] = [];
  for (const name of readdirSync("/dev/fd")) {
    const fd = Number(name);
    try {
      const s = fstatSync(fd, { bigint: true });
      if (s.dev === want.dev && s.ino === want.ino) found.push(fd);
    } catch {
      // the descriptor readdir itself used, closed by now
    }
  }
  if (found.length !== 1) {
    throw new Error(`expected one descriptor of this process on ${path}, found ${found.length} (${found.join(", ")})`);
  }
  return found[0] as number;
}
