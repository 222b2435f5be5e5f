/** The suggestion for a misspelt name: the known name it most likely meant, if any is close enough. */

/**
 * The known name a misspelling most likely meant: the same letters in another case, or the nearest within 2 edits
 * (1 for a name under 6 letters, where 2 edits would turn any short name into another), else the one known name that
 * starts with it (3 letters or more: `sync` for `syncMode`); `undefined` when no known name is that close. What `checkOptionNames` suggests for an unknown option name, and `lora-wal` for an
 * unknown command or long option.
 *
 * ```ts
 * closestName("recover", ["recovery", "syncMode"]); // "recovery"
 * closestName("sync", ["recovery", "syncMode"]); // "syncMode"
 * closestName("colour", ["recovery", "syncMode"]); // undefined
 * ```
 */
export function closestName(name: string, known: readonly string[]): string | undefined {
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
  return best ?? onlyExtension(lower, known);
}

/** The known name that starts with `lower` when exactly one does (a name cut short, too short for edits to reach). */
function onlyExtension(lower: string, known: readonly string[]): string | undefined {
  if (lower.length < 3) return undefined;
  const longer = known.filter((candidate) => candidate.toLowerCase().startsWith(lower));
  return longer.length === 1 ? longer[0] : undefined;
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
