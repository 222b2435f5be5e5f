/**
 * Every `{@link}` in the published declarations resolves for a reader of the package: to a name its index exports
 * (or a member of one), or to another package's name spelled with its package (`@lora/wal-codec!WalError`). A link
 * to a name the package does not export (a module's internal constant, a bare member name) is dead in an editor's
 * hover and in a reader's own API docs. Reads the build output: `pnpm test` builds first.
 */

import { existsSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { expect, it } from "vitest";

const DTS = fileURLToPath(new URL("../dist/index.d.ts", import.meta.url));

/** The names the declarations export, from their `export { ... }` lists and `export declare ...` statements. */
function exportedNames(text: string): Set<string> {
  const names = new Set<string>();
  for (const m of text.matchAll(/^export\s*\{([^}]*)\}/gm)) {
    for (const part of (m[1] as string).split(",")) {
      const [name, alias] = part
        .trim()
        .replace(/^type\s+/, "")
        .split(/\s+as\s+/);
      if (name) names.add((alias ?? name).trim());
    }
  }
  for (const m of text.matchAll(/^export\s+(?:declare\s+)?(?:const|function|class|interface|type|enum)\s+(\w+)/gm)) {
    names.add(m[1] as string);
  }
  return names;
}

it("links only to names the package exports, or to other packages' names with their package", () => {
  expect(existsSync(DTS), `${DTS} (run pnpm build first)`).toBe(true);
  const text = readFileSync(DTS, "utf8");
  const exported = exportedNames(text);
  expect(exported.has("acquireDirLock")).toBe(true); // the parse found the export list
  const dead: string[] = [];
  for (const m of text.matchAll(/\{@link\s+([^\s|}]+)/g)) {
    const target = m[1] as string;
    if (/^@[\w-]+\/[\w-]+!/.test(target)) continue;
    const head = target.split(/[.#]/)[0] as string;
    if (!exported.has(head)) dead.push(`line ${text.slice(0, m.index).split("\n").length}: {@link ${target}}`);
  }
  expect(dead).toEqual([]);
});
