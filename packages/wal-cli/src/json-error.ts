/**
 * The JSON document a command run with `--json` prints on stdout when it fails (exit 3, 4, 6, 7, 8, 9 through an
 * error rather than a report), so a script reading stdout always gets one document to parse, beside the human
 * message on stderr.
 */

import type { WalErrorCode } from "@lora/wal-codec";

/** `{ "error": { code, message, exitCode } }`: every key always present. */
export interface JsonFailure {
  readonly error: {
    /**
     * The `WalError` code the command failed with; `"WAL_INVALID_ARGUMENT"` for a bad command line (an unknown
     * command or option, a missing or invalid argument); `null` for an unexpected error (a bug: report it).
     */
    readonly code: WalErrorCode | null;
    /** The message stderr shows, without the `lora-wal:` prefix and the code. Not stable: match on `code`. */
    readonly message: string;
    /** The process's exit status, the same as without `--json`. */
    readonly exitCode: number;
  };
}

/**
 * Whether the command line asks for JSON output: a `--json` token before any `--` (which ends the options). Read
 * from the raw arguments, so a command line that fails to parse still gets its failure as JSON.
 */
export function wantsJson(args: readonly string[]): boolean {
  for (const arg of args) {
    if (arg === "--") return false;
    if (arg === "--json") return true;
  }
  return false;
}

/** The failure as its one-line JSON document. */
export function jsonFailureLine(code: WalErrorCode | null, message: string, exitCode: number): string {
  const failure: JsonFailure = { error: { code, message, exitCode } };
  return JSON.stringify(failure);
}
