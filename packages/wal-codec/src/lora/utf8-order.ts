/**
 * Key ordering. LoraDB keeps properties, maps and index options in a Rust `BTreeMap`, so they are written sorted by
 * raw UTF-8 bytes. That equals code-point order, which differs from JavaScript's UTF-16 order only between astral
 * characters (surrogate pairs, U+D800–U+DFFF units) and U+E000–U+FFFF.
 */

/** Compare two strings by their UTF-8 bytes (code-point order) without encoding them. */
export function compareUtf8(a: string, b: string): number {
  if (a === b) return 0;
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    let x = a.charCodeAt(i);
    let y = b.charCodeAt(i);
    if (x === y) continue;
    // Surrogates (astral code points) must sort after U+E000–U+FFFF: shift both ranges into code-point order.
    if (x >= 0xd800 && y >= 0xd800) {
      x = x >= 0xe000 ? x - 0x800 : x + 0x2000;
      y = y >= 0xe000 ? y - 0x800 : y + 0x2000;
    }
    return x - y;
  }
  return a.length - b.length;
}

/** The own enumerable keys of `obj`, sorted by UTF-8 bytes (a linear check skips the sort when already ordered). */
export function sortedKeys(obj: object): string[] {
  const keys = Object.keys(obj);
  for (let i = 1; i < keys.length; i++) {
    if (compareUtf8(keys[i - 1] as string, keys[i] as string) > 0) return keys.sort(compareUtf8);
  }
  return keys;
}
