/**
 * The three sync modes of LoraDB 0.8.3, and what each call promises in them (docs/durability.md, 'Sync modes'):
 *
 * | call                  | perCommit                      | group                        | none                        |
 * | --------------------- | ------------------------------ | ---------------------------- | --------------------------- |
 * | `commitTx` resolves   | after an fdatasync covers it   | after the bytes reach the OS | after the bytes reach the OS |
 * | `flush()`             | write + fdatasync              | write only                   | write; `durableLsn` advances |
 * | `forceFsync`/`sync()` | write + fdatasync              | write + fdatasync            | write + fdatasync           |
 * | background flusher    | none                           | fdatasync every `intervalMs` when something was appended | none |
 */

import { checkOptionNames, MAX_TIMER_MS, shownValue, WalError } from "@lora/wal-codec";

/**
 * When a commit is acknowledged and who fsyncs: `perCommit` (after an fdatasync covering it; concurrent commits
 * share one), `group` (after the write; a background fdatasync every `intervalMs`), `none` (after the write; fsync
 * only on `sync()`, rotation and close).
 */
export type SyncMode =
  | { readonly mode: "perCommit" }
  | { readonly mode: "group"; readonly intervalMs: number }
  | { readonly mode: "none" };

/** A sync mode as callers may write it: the object form, or the name (`"group"` takes the default interval). */
export type SyncModeInput = SyncMode | "perCommit" | "group" | "none";

/** LoraDB's server default. */
export const DEFAULT_GROUP_INTERVAL_MS = 50;

/**
 * Normalise and validate a sync mode.
 * @throws {@link WalError} `WAL_INVALID_OPTION`.
 */
export function normalizeSyncMode(input: SyncModeInput | undefined): SyncMode {
  if (input === undefined || input === "perCommit") return { mode: "perCommit" };
  if (input === "none") return { mode: "none" };
  if (input === "group") return { mode: "group", intervalMs: DEFAULT_GROUP_INTERVAL_MS };
  let shown: unknown = input;
  if (typeof input === "object" && input !== null) {
    // Read once (a getter or a proxy trap that throws is refused with the option's code, not as its own error); what
    // was read is what is checked and used.
    const read = checkOptionNames(input as object, ["mode", "intervalMs"], "syncMode") as {
      readonly mode?: unknown;
      readonly intervalMs?: unknown;
    };
    shown = read;
    const mode = read.mode;
    if (mode === "perCommit" || mode === "none") {
      // `{ mode: "none", intervalMs }` would otherwise read as "sync every intervalMs" and sync never.
      checkOptionNames(read, ["mode"], `syncMode { mode: "${mode}" }`);
      return { mode };
    }
    if (mode === "group") {
      const ms = read.intervalMs;
      // LoraDB's Node binding rejects 0; a zero interval would fsync continuously.
      if (typeof ms !== "number" || !Number.isInteger(ms) || ms < 1 || ms > MAX_TIMER_MS) {
        throw new WalError(
          "WAL_INVALID_OPTION",
          `group intervalMs must be an integer in [1, 2^31), got ${shownValue(ms)}`,
          { details: { option: "syncMode" } },
        );
      }
      return { mode: "group", intervalMs: ms };
    }
  }
  throw new WalError(
    "WAL_INVALID_OPTION",
    `unknown sync mode ${shownValue(shown)}: syncMode is "perCommit", "group", "none", or { mode } with one of those (and intervalMs for "group")`,
    { details: { option: "syncMode" } },
  );
}
