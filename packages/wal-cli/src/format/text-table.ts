/** Aligned plain-text tables (inspect, stat) and byte counts for people. */

export interface TableColumn {
  readonly header: string;
  /** @default "left" */
  readonly align?: "left" | "right";
  /** Applied to each padded cell (colour); must not change its visible width. */
  readonly paint?: (padded: string, raw: string) => string;
}

/** Render `rows` under `columns`, two spaces between columns, trailing spaces trimmed. */
export function formatTable(columns: readonly TableColumn[], rows: readonly (readonly string[])[]): string[] {
  const widths = columns.map((c, i) => Math.max(c.header.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: readonly string[], paint: boolean): string =>
    columns
      .map((c, i) => {
        const raw = cells[i] ?? "";
        const width = widths[i] ?? 0;
        const padded = c.align === "right" ? raw.padStart(width) : raw.padEnd(width);
        return paint && c.paint !== undefined ? c.paint(padded, raw) : padded;
      })
      .join("  ")
      .trimEnd();
  return [
    line(
      columns.map((c) => c.header),
      false,
    ),
    ...rows.map((r) => line(r, true)),
  ];
}

const UNITS = ["B", "KiB", "MiB", "GiB", "TiB"];

/** `512 B`, `9.4 MiB`. */
export function formatBytes(n: number): string {
  let value = n;
  let unit = 0;
  while (value >= 1024 && unit < UNITS.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${n} B` : `${value.toFixed(1)} ${UNITS[unit]}`;
}
