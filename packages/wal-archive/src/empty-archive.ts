/** What restore and verifyArchive answer for an archive whose listing holds no log segments. */

import { WalError } from "@lora/wal-codec";
import type { ArchiveStore } from "./archive-store.js";

/**
 * Where a store kept in a directory says whether that directory is missing. `fsArchive` lists a missing directory as
 * empty (the archiver's first put creates it), and an empty listing alone reads as an archive that holds nothing,
 * where a mistyped path is the likelier cause. Known to this package only: not part of {@link ArchiveStore}.
 */
export const missingArchiveDir: unique symbol = Symbol("missingArchiveDir");

/** A store that can say so: its directory when that does not exist, else `undefined`. */
export interface NamesMissingArchiveDir {
  [missingArchiveDir](): Promise<string | undefined>;
}

/**
 * The `WAL_ARCHIVE_MISSING` of an archive that lists no log segments (`details.object` is `object`); for a store
 * whose directory does not exist, saying so and naming it (`details.path`). Asked only once the listing came back
 * empty, and advice only: a store that cannot tell (or fails to) gets the plain answer.
 */
export async function emptyArchiveError(store: ArchiveStore, object: string): Promise<WalError> {
  const plain = `${store.name} holds no log segments`;
  const dir = await missingDirOf(store);
  if (dir === undefined) return new WalError("WAL_ARCHIVE_MISSING", plain, { details: { object } });
  return new WalError("WAL_ARCHIVE_MISSING", `${plain}: no such archive directory: ${dir}`, {
    details: { object, path: dir },
  });
}

async function missingDirOf(store: ArchiveStore): Promise<string | undefined> {
  try {
    const ask = (store as Partial<NamesMissingArchiveDir>)[missingArchiveDir];
    return typeof ask === "function" ? await ask.call(store) : undefined;
  } catch {
    return undefined;
  }
}
