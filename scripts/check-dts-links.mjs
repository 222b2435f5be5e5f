// Every `{@link}` in a package's published declarations must resolve for a reader of the package: to a name one of
// its entry points exports (or a member of one: `Wal.open`, `Archiver#flush`), or to another package's name spelled
// with its package (`@lora/wal-codec!WalError`). A link to a module's internal constant or a bare member name is dead
// in an editor's hover. Run from a package's folder after its build (its `check:pkg`); reads every `dist/**/*.d.ts`,
// the shared chunks too, since the entry points re-export from them.
import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";

const dist = join(process.cwd(), "dist");
const files = readdirSync(dist, { recursive: true })
  .map(String)
  .filter((f) => f.endsWith(".d.ts"))
  .map((f) => join(dist, f));
const pkg = JSON.parse(readFileSync(join(process.cwd(), "package.json"), "utf8"));
const entries = new Set(
  Object.values(pkg.exports ?? {})
    .map((e) => (typeof e === "string" ? undefined : e.types))
    .filter((t) => typeof t === "string")
    .map((t) => join(process.cwd(), t)),
);
if (entries.size === 0 || [...entries].some((e) => !files.includes(e))) {
  console.error(`cannot find every entry point's declarations (${[...entries].join(", ") || "none"}): build first`);
  process.exit(1);
}

/** The names a declarations file exports: its `export { a as b, type c }` lists and `export declare` statements. */
function exportedNames(text) {
  const names = new Set();
  for (const m of text.matchAll(/^export\s*(?:type\s*)?\{([^}]*)\}/gm)) {
    for (const part of m[1].split(",")) {
      const [name, alias] = part
        .trim()
        .replace(/^type\s+/, "")
        .split(/\s+as\s+/);
      if (name) names.add((alias ?? name).trim());
    }
  }
  for (const m of text.matchAll(
    /^export\s+(?:declare\s+)?(?:abstract\s+)?(?:const|function|class|interface|type|enum|namespace)\s+(\w+)/gm,
  )) {
    names.add(m[1]);
  }
  return names;
}

const exported = new Set();
for (const entry of entries) for (const name of exportedNames(readFileSync(entry, "utf8"))) exported.add(name);
const dead = [];
for (const file of files) {
  const text = readFileSync(file, "utf8");
  for (const m of text.matchAll(/\{@link(?:code|plain)?\s+([^\s|}]+)/g)) {
    const target = m[1];
    if (/^"?@[\w-]+\/[\w-]+(?:\/[\w-]+)?"?!/.test(target) || /^https?:/.test(target)) continue;
    const head = target.split(/[.#]/)[0];
    if (!exported.has(head)) {
      dead.push(`${relative(process.cwd(), file)}:${text.slice(0, m.index).split("\n").length}: {@link ${target}}`);
    }
  }
}
if (dead.length > 0) {
  console.error(`links to names ${pkg.name} does not export:\n  ${dead.join("\n  ")}`);
  process.exit(1);
}
console.log(`${pkg.name}: every {@link} in ${files.length} declaration files names an export`);
