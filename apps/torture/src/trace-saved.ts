/**
 * Exact replay of a tier D finding. A real trace is not deterministic (the thread pool interleaves differently on
 * every run), so re-recording with the same seed may not show the same crash state again. A trace that yields any
 * violation is saved with everything its check needs (the raw strace text, the root and ack paths it was recorded
 * with, the workload, mode and bug, the seeded enumeration's settings), and `--trace-file F` checks exactly that
 * trace again, recording nothing.
 */

import { readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { PlantedBug } from "@lora/wal/testing";
import type { SeamBug, TraceSyncMode, TraceWorkload } from "./trace-workload.js";

const FORMAT = "lora-wal-tier-d-trace/1";

export interface SavedTrace {
  /** The run's seed and the trace's number in it: the seeded enumeration of crash states uses both. */
  readonly seed: number;
  readonly case: number;
  readonly workload: TraceWorkload;
  readonly mode: TraceSyncMode;
  readonly bug: SeamBug | "none";
  /** A planted bug of the handle the writer ran with. */
  readonly planted?: PlantedBug;
  readonly commits: number;
  /** The directory the writer ran in (paths in the trace start with it) and its ack file. */
  readonly root: string;
  readonly ackPath: string;
  readonly strictSamples: number;
  readonly maxStates: number;
  readonly staticViolations: boolean;
  /** The writer's exit status (0: it finished). */
  readonly status: number | null;
  /** The raw `strace -f -ttt -xx` output. */
  readonly trace: string;
}

/** Where a failing trace is kept: the OS's temporary directory, named by seed, case and seam bug. */
export function savedTracePath(t: Pick<SavedTrace, "seed" | "case" | "bug" | "planted">): string {
  const bugs = [t.bug, t.planted ?? "none"].filter((b) => b !== "none").map((b) => `-${b}`);
  return join(tmpdir(), `lora-wal-tier-d-${t.seed}-${t.case}${bugs.join("")}.json`);
}

export function saveTrace(t: SavedTrace, path = savedTracePath(t)): string {
  writeFileSync(path, JSON.stringify({ format: FORMAT, ...t }));
  return path;
}

export function loadTrace(path: string): SavedTrace {
  const raw = JSON.parse(readFileSync(path, "utf8")) as SavedTrace & { format?: string };
  if (raw.format !== FORMAT) throw new Error(`${path} is not a saved tier D trace (format ${String(raw.format)})`);
  if (typeof raw.trace !== "string" || typeof raw.root !== "string" || typeof raw.ackPath !== "string")
    throw new Error(`${path}: a saved tier D trace needs trace, root and ackPath`);
  return raw;
}

/** The command that checks a saved trace again. */
export const replayCommand = (path: string) => `pnpm torture -- --tier D --trace-file ${path}`;
