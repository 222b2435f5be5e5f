/**
 * The progress bar of the commands that fetch an archive (`restore`, `archive verify`): bytes and segments, on
 * stderr, drawn only when a person is watching it. The decision and the rendering are plain functions, so both are
 * tested without a terminal.
 */

import type { TextStream } from "./terminal.js";
import { formatBytes } from "./text-table.js";

/** How far a fetch is. */
export interface TransferProgress {
  readonly segmentsDone: number;
  readonly segmentsTotal: number;
  /** Absent when the command does not count bytes (`archive verify` counts segments). */
  readonly bytesDone?: number;
  readonly bytesTotal?: number;
}

/** A bar to feed progress to; a no-op when not wanted. */
export interface ProgressBar {
  update(progress: TransferProgress): void;
  /** Erase the bar (call before writing anything else to the stream). */
  done(): void;
}

const BAR_WIDTH = 30;
const REDRAW_MS = 100;
/** Back to the start of the line and erase it: a new frame can be shorter than the last one. */
const CLEAR_LINE = "\r\u001b[2K";

/** Whether to draw a progress bar on `stream` (stderr): only when it is a terminal, and not with `--json` or `--quiet`. */
export function wantsProgressBar(
  stream: TextStream,
  options: { readonly json: boolean; readonly quiet: boolean },
): boolean {
  return stream.isTTY === true && !options.json && !options.quiet;
}

/**
 * One frame, e.g. `restore [#######                       ]  25%  1.5 MiB / 6.0 MiB  2/6 segments`. The bar and the
 * percentage follow the bytes when they are counted, else the segments; the bar is full only when all is done.
 */
export function renderProgressBar(label: string, progress: TransferProgress, width: number = BAR_WIDTH): string {
  const { bytesDone, bytesTotal, segmentsDone, segmentsTotal } = progress;
  const bytes =
    bytesDone !== undefined && bytesTotal !== undefined ? { done: bytesDone, total: bytesTotal } : undefined;
  const done = bytes?.done ?? segmentsDone;
  const total = bytes?.total ?? segmentsTotal;
  const ratio = total <= 0 ? 1 : Math.min(1, Math.max(0, done / total));
  const filled = Math.floor(ratio * width);
  const percent = `${String(Math.floor(ratio * 100)).padStart(3)}%`;
  const counted = bytes === undefined ? "" : `  ${formatBytes(bytes.done)} / ${formatBytes(bytes.total)}`;
  const segments = `${segmentsDone}/${segmentsTotal} segment${segmentsTotal === 1 ? "" : "s"}`;
  return `${label} [${"#".repeat(filled)}${" ".repeat(width - filled)}] ${percent}${counted}  ${segments}`;
}

/**
 * A progress bar on `stream`, redrawn at most every 100 ms, the first frame 100 ms after it was created (a quick
 * command shows none); a no-op unless `enabled` (see {@link wantsProgressBar}).
 * @param now the clock, for tests. @default Date.now
 */
export function createProgressBar(
  stream: TextStream,
  enabled: boolean,
  label: string,
  now: () => number = Date.now,
): ProgressBar {
  if (!enabled) return { update: () => undefined, done: () => undefined };
  let last = now();
  let drawn = false;
  return {
    update(progress) {
      const t = now();
      if (t - last < REDRAW_MS) return;
      last = t;
      stream.write(`${CLEAR_LINE}${renderProgressBar(label, progress)}`);
      drawn = true;
    },
    done() {
      if (drawn) stream.write(CLEAR_LINE);
      drawn = false;
    },
  };
}
