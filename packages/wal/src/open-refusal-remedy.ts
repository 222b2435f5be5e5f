/** What `Wal.open` adds to a refusal for damage: what the caller can do about it. */

import { isWalError, shellPath, withAdvice } from "@lora/wal-codec";
import type { RecoveryMode } from "@lora/wal-replay";

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
    remedy =
      `run \`lora-wal verify ${shellPath(dir)}\` to see the damage; to open the log with what precedes it (the rest is ` +
      `moved to .broken files), open it with recovery: "point-in-time"`;
  } else if (error.code === "WAL_TORN_TAIL" && recovery === "absolute") {
    remedy =
      `a crash mid-write leaves one; open with recovery: "tolerate-torn-tail" (the default) to cut it ` +
      `(a copy of the cut bytes is kept in a .broken file when the disk has room for it)`;
  } else {
    return error;
  }
  return withAdvice(error, remedy);
}
