/** Names listed in a message: a refusal that names the files in its way must stay one readable line. */

/** How many names {@link firstNames} shows. */
const FIRST_NAMES_SHOWN = 5;

/**
 * Up to five of `names`, sorted (code-unit order, so the same directory always reads the same), joined by ", ",
 * then ", ..." when there are more. The one format of a list of file names in an error or its advice: say how many
 * there are beside it, since the list may be cut.
 *
 * ```ts
 * firstNames(["b", "a"]); // "a, b"
 * firstNames(["1", "2", "3", "4", "5", "6"]); // "1, 2, 3, 4, 5, ..."
 * ```
 */
export function firstNames(names: readonly string[]): string {
  const sorted = [...names].sort();
  const shown = sorted.slice(0, FIRST_NAMES_SHOWN).join(", ");
  return sorted.length > FIRST_NAMES_SHOWN ? `${shown}, ...` : shown;
}
