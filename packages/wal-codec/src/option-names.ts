/**
 * Unknown option names refused: every entry point lists the options it reads, once, checked against its options
 * type, and refuses any other name, suggesting the known one a misspelling most likely meant.
 */

import { checkOptionsObject } from "./check-options.js";
import { WalError } from "./errors.js";

/**
 * The option names of an options type, listed once: the list must name every key of `T` (a key left out fails to
 * type-check, naming it), so the refusal of unknown options ({@link checkOptionNames}) never refuses a real one.
 *
 * ```ts
 * const NAMES = optionNames<{ a?: number; b?: string }>()("a", "b");
 * ```
 */
export function optionNames<T extends object>(): <const K extends readonly (keyof T & string)[]>(
  ...names: K & ListsEvery<T, K>
) => K {
  // The checks are all in the signature; at run time the list is the names given, frozen.
  return ((...names: readonly string[]) => Object.freeze([...names])) as never;
}

/** `unknown` when `K` names every key of `T`; else a shape no list has, whose `missing` names the keys left out. */
type ListsEvery<T, K extends readonly string[]> = [Exclude<keyof T & string, K[number]>] extends [never]
  ? unknown
  : { readonly missing: Exclude<keyof T & string, K[number]> };

/**
 * Assert that `options` is an object ({@link checkOptionsObject}) that names no option outside `known` (its own
 * enumerable string keys; symbol keys are not options). `where` names the call in the message (`Wal.open`,
 * `replayDir`).
 *
 * Why refuse: in plain JavaScript a misspelled option is otherwise ignored without a word, and the call runs with the
 * default instead, e.g. `{ recover: "strict" }` would open in the default recovery mode and cut damage the caller
 * asked to have refused.
 * @throws {@link WalError} `WAL_INVALID_OPTION` for options that are not an object, and for the first unknown name,
 *   with the closest known one when a misspelling is likely (`details.option`, `details.knownOptions`).
 */
export function checkOptionNames(options: unknown, known: readonly string[], where: string): asserts options is object {
  checkOptionsObject(options);
  for (const name of Object.keys(options)) {
    if (known.includes(name)) continue;
    const near = closestName(name, known);
    throw new WalError(
      "WAL_INVALID_OPTION",
      `${where}: unknown option ${JSON.stringify(name)}${near === undefined ? "" : ` (did you mean ${JSON.stringify(near)}?)`}; known options: ${known.join(", ")}`,
      { details: { option: name, knownOptions: [...known] } },
    );
  }
}

/**
 * The known name a misspelling most likely meant: the same letters in another case, or the nearest within 2 edits
 * (1 for a name under 6 letters, where 2 edits would turn any short name into another).
 */
function closestName(name: string, known: readonly string[]): string | undefined {
  const lower = name.toLowerCase();
  let best: string | undefined;
  let bestDistance = (name.length < 6 ? 1 : 2) + 1;
  for (const candidate of known) {
    if (candidate.toLowerCase() === lower) return candidate;
    const distance = editDistance(lower, candidate.toLowerCase(), bestDistance);
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  return best;
}

/** Levenshtein distance of `a` and `b`, or `limit` once it is sure to reach it (option names are short). */
function editDistance(a: string, b: string, limit: number): number {
  if (Math.abs(a.length - b.length) >= limit) return limit;
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    let rowMin = i;
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      const value = Math.min(
        (previous[j] as number) + 1,
        (row[j - 1] as number) + 1,
        (previous[j - 1] as number) + cost,
      );
      row.push(value);
      rowMin = Math.min(rowMin, value);
    }
    if (rowMin >= limit) return limit;
    previous = row;
  }
  return Math.min(previous[b.length] as number, limit);
}
