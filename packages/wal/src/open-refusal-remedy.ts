/**
 * What `Wal.open` adds to a refusal for damage or for a fence below the log's start: what the caller can do about it.
 */

import { firstNames, isWalError, shellPath, withAdvice } from "@lora/wal-codec";
import { POINT_IN_TIME_REMEDY, type RecoveryMode } from "@lora/wal-replay";
import { parseRestoringSegmentId, RESTORING_SUFFIX, type WalFileSystem } from "@lora/wal-segment";

/**
 * A refusal for damage, with what the caller can do about it added to its message: corruption can be looked at
 * with `lora-wal verify` and opened up to the damage with `point-in-time`; a torn tail refused in `absolute` mode is
 * cut by the default mode. Added by `withAdvice`: the code, `details`, `cause` and stack frames stay those of the
 * damage found; other errors pass as is.
 */
export function withRemedy(error: unknown, dir: string, recovery: RecoveryMode): unknown {
  if (!isWalError(error)) return error;
  let remedy: string;
  if (error.code === "WAL_CORRUPT" && recovery !== "point-in-time") {
    remedy = `run \`lora-wal verify ${shellPath(dir)}\` to see the damage; ${POINT_IN_TIME_REMEDY}`;
  } else if (error.code === "WAL_TORN_TAIL" && recovery === "absolute") {
    remedy =
      `a crash mid-write leaves one; open with recovery: "tolerate-torn-tail" (the default) to cut it ` +
      `(a copy of the cut bytes is kept in a .broken file when the disk has room for it)`;
  } else {
    return error;
  }
  return withAdvice(error, remedy);
}

/**
 * A `WAL_FENCE_TOO_LOW` refusal (the log starts above the fence), with what opening at a higher fence means added:
 * it leaves out the records before it. When `dir` holds segment files a restore has not renamed into place yet
 * (exactly the names restore writes, `parseRestoringSegmentId`: `0000000001.wal.restoring`), the restore did not finish: the
 * advice names them and says that emptying the directory and restoring again brings the older records back. Otherwise
 * it says only that doing so would, if the directory was being restored (a crash while a failed restore removed its
 * segments leaves no such file). A directory that cannot be listed, however the listing fails, counts as holding
 * none: the refusal is always the one given. Other errors pass as is.
 */
export async function withFenceRemedy(error: unknown, fs: WalFileSystem, dir: string): Promise<unknown> {
  if (!isWalError(error, "WAL_FENCE_TOO_LOW")) return error;
  const left = await restoringSegments(fs, dir);
  if (left.length === 0) {
    return withAdvice(
      error,
      "opening at a higher fence leaves out the records before it: do so only with a snapshot taken there or later " +
        "(if this directory was being restored from an archive, emptying it and restoring into it again brings them " +
        "back)",
    );
  }
  return withAdvice(
    error,
    `a restore into this directory did not finish (${left.length} segment file(s) still named ${RESTORING_SUFFIX}: ` +
      `${firstNames(left)}): opening at a higher fence would leave out the older records, and running the restore again brings ` +
      "them back: empty the directory and restore into it again",
  );
}

/** The names in `dir` of segments a restore has not renamed into place; none when the listing fails in any way. */
async function restoringSegments(fs: WalFileSystem, dir: string): Promise<string[]> {
  try {
    const names: unknown = await fs.readdir(dir);
    if (!Array.isArray(names)) return [];
    return names.filter((n): n is string => typeof n === "string" && parseRestoringSegmentId(n) !== undefined);
  } catch {
    return [];
  }
}
