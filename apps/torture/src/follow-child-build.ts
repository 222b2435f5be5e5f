/**
 * Where tier F's child script is: `dist/follow-child.js` when the build made it (add `src/follow-child.ts` to the
 * entries of tsup.config.ts), otherwise a copy compiled here from the sources: each module is transpiled on its own
 * with TypeScript (no bundling, no type check) into `node_modules/.cache/lora-torture/follow-child-<hash>/`, a
 * directory named after the sources' content, so later and concurrent runs reuse it (without loading the compiler)
 * and a stale copy is never used. The child imports the `@lora/*` packages from their builds (`packages/<name>/dist`),
 * as the other tiers' children do.
 */

import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const ENTRY = "follow-child";

/** The app's root (apps/torture), from this module in `src/` (tests) or bundled into `dist/` (the CLI). */
function appRoot(): string {
  return dirname(dirname(fileURLToPath(import.meta.url)));
}

/** True when the packages the child imports are built (their `dist/index.js` exist). */
export function packagesBuilt(): boolean {
  const packages = join(appRoot(), "..", "..", "packages");
  return ["wal", "wal-codec", "wal-replay", "wal-segment"].every((p) =>
    existsSync(join(packages, p, "dist", "index.js")),
  );
}

/** The relative imports of a module's source (`from "./x.js"`, type-only ones included: a superset is harmless). */
function localImports(source: string): string[] {
  return [...source.matchAll(/from\s+"(\.\/[^"]+)\.js"/g)].map((m) => basename(m[1] as string));
}

type TypeScript = typeof import("typescript");

/** The child script's path, compiling it first when neither the build nor an earlier run did. */
export async function followChildScript(): Promise<string> {
  const built = join(appRoot(), "dist", `${ENTRY}.js`);
  if (existsSync(built)) return built;
  const src = join(appRoot(), "src");
  const sources = new Map<string, string>();
  const pending = [ENTRY];
  while (pending.length > 0) {
    const module = pending.pop() as string;
    if (sources.has(module)) continue;
    const source = readFileSync(join(src, `${module}.ts`), "utf8");
    sources.set(module, source);
    pending.push(...localImports(source));
  }
  const hash = createHash("sha256");
  for (const [module, source] of [...sources].sort(([a], [b]) => a.localeCompare(b)))
    hash.update(`${module}\0${source}\0`);
  // Not in dist/: a build (tsup's clean) empties it, also while a run uses the copy. node_modules/.cache is the
  // usual place for such copies, and the `@lora/*` packages resolve from there as from src/.
  const target = join(
    appRoot(),
    "node_modules",
    ".cache",
    "lora-torture",
    `${ENTRY}-${hash.digest("hex").slice(0, 12)}`,
  );
  const script = join(target, `${ENTRY}.js`);
  if (existsSync(script)) return script;
  // The compiler is a development dependency of the repository: loaded by name at run time, never bundled.
  const name = "typescript";
  const ts = ((await import(/* @vite-ignore */ name)) as { default: TypeScript }).default;
  // Written beside, then renamed into place: a concurrent run sees the whole directory or none of it.
  const tmp = `${target}.tmp-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  writeFileSync(join(tmp, "package.json"), '{ "type": "module" }\n');
  for (const [module, source] of sources) {
    const js = ts.transpileModule(source, {
      compilerOptions: {
        module: ts.ModuleKind.ESNext,
        target: ts.ScriptTarget.ES2022,
        verbatimModuleSyntax: true,
        sourceMap: false,
      },
      fileName: `${module}.ts`,
    }).outputText;
    writeFileSync(join(tmp, `${module}.js`), js);
  }
  try {
    renameSync(tmp, target);
  } catch (error) {
    if (!existsSync(script)) throw error;
    rmSync(tmp, { recursive: true, force: true });
  }
  return script;
}
