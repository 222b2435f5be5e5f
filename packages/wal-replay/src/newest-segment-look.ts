/**
 * The second look at a newest segment whose header did not read. A reader beside a live writer can open the newest
 * segment in the instant between its creation and its header's write, then look at the file only after the header
 * landed, or after a restarted writer's recovery removed the headerless file. Neither is damage.
 */

import type { WalError } from "@lora/wal-codec";
import { isMissingFileError, type WalFileSystem } from "@lora/wal-segment";
import { classifyHeaderFailure } from "./damage-rules.js";

/** What the second look found: the segment opened after all, or no header (no records). */
export type NewestSegmentLook<T> =
  | { readonly kind: "opened"; readonly value: T }
  | {
      readonly kind: "headerless";
      /** The size it had; 0 when it was gone by the second look. */
      readonly fileSize: number;
      /** The first failure (`WAL_BAD_HEADER`). */
      readonly cause: WalError;
    };

/**
 * After `open` (a read of the header of `path`, the newest segment) failed with `error`: the segment is headerless
 * by the damage rules (a writer creating it, or one that died doing so), or `open` succeeds when tried again (the
 * header landed in between), or the file is gone by then (it held no records when it was read: headerless, size 0).
 * A gone file says nothing about records written after that first read: a reader that must not miss any (a
 * follower) looks again later.
 * @throws `error` when it is not a header failure; the second failure when the header still does not read
 *   (`WAL_BAD_HEADER`: damage) or the second read fails otherwise (`WAL_IO`).
 */
export async function lookAgainAtNewest<T>(
  fs: WalFileSystem,
  path: string,
  error: unknown,
  open: () => Promise<T>,
): Promise<NewestSegmentLook<T>> {
  const damage = await classifyHeaderFailure(fs, path, error, true);
  if (damage === undefined) throw error;
  if (damage.kind === "headerless") return { kind: "headerless", fileSize: damage.fileSize, cause: damage.cause };
  try {
    return { kind: "opened", value: await open() };
  } catch (again) {
    if (isMissingFileError(again)) return { kind: "headerless", fileSize: 0, cause: damage.error };
    throw again;
  }
}
