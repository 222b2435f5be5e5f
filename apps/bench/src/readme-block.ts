/** The root README's summary block: the markers a full run writes between, and the replacement itself. */

export const SUMMARY_START = "<!-- bench-summary:start (written by apps/bench from results/latest.json) -->";
export const SUMMARY_END = "<!-- bench-summary:end -->";

/** `text` with what lies between the `start` and `end` marker lines replaced by `content`; undefined without them. */
export function replaceBlock(text: string, start: string, end: string, content: string): string | undefined {
  const a = text.indexOf(start);
  const b = text.indexOf(end, a + start.length);
  if (a < 0 || b < 0) return undefined;
  return `${text.slice(0, a + start.length)}\n${content.trimEnd()}\n${text.slice(b)}`;
}
