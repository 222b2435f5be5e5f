/**
 * Key sets of `--json` documents, for the tests that pin one key set per command across states: every key path a
 * document has, and which of them one state has that another lacks.
 */

import { expect } from "vitest";

/** The key paths of a JSON document (`verdict.offset`, `segments[].damage.kind`) and those whose value is `null`. */
export interface JsonShape {
  readonly keys: Set<string>;
  readonly nulls: Set<string>;
}

/**
 * Every key path of `value`, and the paths whose value is `null`: an object a state does not have (`replay` after a
 * bad header) is `null` there, and its keys are not looked for. Every element of one array must have the same keys.
 */
export function shape(value: unknown, path = "", out: JsonShape = { keys: new Set(), nulls: new Set() }): JsonShape {
  if (value === null) out.nulls.add(path);
  else if (Array.isArray(value)) {
    const sets = value.map((item) => Object.keys(item ?? {}).join(","));
    expect(new Set(sets).size, `${path}[]`).toBeLessThanOrEqual(1);
    // An empty list has no element keys to compare: like a null.
    if (value.length === 0) out.nulls.add(`${path}[]`);
    for (const item of value) shape(item, `${path}[]`, out);
  } else if (typeof value === "object") {
    for (const [key, v] of Object.entries(value as object)) {
      const p = path === "" ? key : `${path}.${key}`;
      out.keys.add(p);
      shape(v, p, out);
    }
  }
  return out;
}

/** Paths of `a` that `b` lacks, unless `b` has `null` at one of their ancestors (or at the path itself). */
export function missingIn(a: JsonShape, b: JsonShape): string[] {
  return [...a.keys].filter((p) => {
    if (b.keys.has(p)) return false;
    const parts = p.split(".");
    for (let i = parts.length - 1; i > 0; i--) if (b.nulls.has(parts.slice(0, i).join("."))) return false;
    return true;
  });
}

/** Every pair of labelled shapes has the same key paths (up to `null`s): one message per pair that differs. */
export function expectOneKeySet(command: string, shapes: readonly (readonly [string, JsonShape])[]): void {
  for (const [a, sa] of shapes) {
    for (const [b, sb] of shapes) expect(missingIn(sa, sb), `${command}: keys of "${a}" missing in "${b}"`).toEqual([]);
  }
}
