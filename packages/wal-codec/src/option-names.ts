/**
 * Unknown option names refused: every entry point lists the options it reads, once, checked against its options
 * type, and refuses any other name, suggesting the known one a misspelling most likely meant.
 */

import { checkOptionsObject, readCallerValue } from "./check-options.js";
import { closestName } from "./closest-name.js";
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
 * Check that `options` is an object ({@link checkOptionsObject}) that names no option outside `known` (its own
 * enumerable string keys; symbol keys are not options), and return what it holds: a plain object with each known
 * option read once, for the entry point to use instead of `options`. `where` names the call in the message
 * (`Wal.open`, `replayDir`).
 *
 * Why refuse: in plain JavaScript a misspelled option is otherwise ignored without a word, and the call runs with the
 * default instead, e.g. `{ recover: "strict" }` would open in the default recovery mode and cut damage the caller
 * asked to have refused.
 *
 * Why a copy: a getter or a proxy can answer one way when read and another (or throw) when read again. Reading each
 * option once, here, means an option that throws is refused with a code now, not thrown as its own error from
 * wherever the entry point reads it, and the value the entry point checks is the value it uses.
 *
 * @returns A new object whose prototype is `Object.prototype`, holding each known option that did not read as
 *   `undefined` (one found on the prototype chain too) with the value read. Symbol keys are not copied: an entry
 *   point that reads one reads it from `options`. Typed as `options`, narrowed to an object.
 * @throws {@link WalError} `WAL_INVALID_OPTION` for options that are not an object (`<where>: options must be an
 *   object, got <typeof, or null>`), for the first unknown name,
 *   with the closest known one when a misspelling is likely (`details.option`, `details.knownOptions`), and for
 *   options whose keys or a known option throw when read (`details.option` names it; the throw is the `cause`).
 */
export function checkOptionNames<T>(options: T, known: readonly string[], where: string): T & object {
  checkOptionsObject(options, where);
  const names = readCallerValue(() => Object.keys(options), "WAL_INVALID_OPTION", `${where}: reading the options`);
  for (const name of names) {
    if (known.includes(name)) continue;
    const near = closestName(name, known);
    throw new WalError(
      "WAL_INVALID_OPTION",
      `${where}: unknown option ${JSON.stringify(name)}${near === undefined ? "" : ` (did you mean ${JSON.stringify(near)}?)`}; known options: ${known.join(", ")}`,
      { details: { option: name, knownOptions: [...known] } },
    );
  }
  const read: Record<string, unknown> = {};
  for (const name of known) {
    const what = `${where}: reading option ${JSON.stringify(name)}`;
    const value = readCallerValue(() => (options as Record<string, unknown>)[name], "WAL_INVALID_OPTION", what, {
      option: name,
    });
    // Defined as an own data property: a known name is never `__proto__`, but assignment would not say so.
    if (value !== undefined)
      Object.defineProperty(read, name, { value, enumerable: true, writable: true, configurable: true });
  }
  return read as T & object;
}

/**
 * `value`, or `fallback` when it is `undefined`: only an option left out (or given as `undefined`) takes its default.
 * A `null` is kept for the option's check to refuse, like any value of the wrong type: settings read back from JSON
 * hold `null` where they held `NaN` or nothing, and `checkpointLsn: null` taken as the default would open at fence 0
 * and replay the whole log onto a snapshot.
 */
export function optionOr<T>(value: T | undefined, fallback: T): T {
  return value === undefined ? fallback : value;
}
