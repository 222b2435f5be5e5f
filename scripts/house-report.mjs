#!/usr/bin/env node
// Prints a markdown report of the repository's "house" (big files, public exports, the workspace import graph) for
// one git revision, so a closing note can show before and after. Usage: node scripts/house-report.mjs [--rev <rev>]
// With --rev every file is read through git (ls-tree / show), so no checkout is needed; without it, the working tree
// (tracked and untracked files). Parsing is regexes over Biome-formatted TypeScript: good for counting, not proof.
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { posix } from "node:path";

const BIG = 400;
const LAYERS = ["wal-codec", "wal-segment", "wal-lock", "wal-replay", "wal", "wal-cli|wal-archive"];
const TEST_ONLY = "test-utils";
const rank = (pkg) => LAYERS.findIndex((layer) => layer.split("|").includes(pkg));

const git = (...args) => execFileSync("git", args, { encoding: "utf8", maxBuffer: 64 << 20 });
const revIndex = process.argv.indexOf("--rev");
const rev = revIndex >= 0 ? process.argv[revIndex + 1] : undefined;
if (revIndex >= 0 && !rev) throw new Error("--rev needs a git revision");

// One view of the tree: the list of paths and a cached reader, either at a revision or in the working tree.
const lines = (text) => text.split("\n").filter(Boolean);
const paths = rev
  ? lines(git("ls-tree", "-r", "--name-only", rev))
  : lines(git("ls-files", "-co", "--exclude-standard")).filter((p) => existsSync(p));
const present = new Set(paths);
const cache = new Map();
function read(path) {
  if (!present.has(path)) return undefined;
  if (!cache.has(path)) cache.set(path, rev ? git("show", `${rev}:${path}`) : readFileSync(path, "utf8"));
  return cache.get(path);
}
const lineCount = (text) => text.split("\n").length - (text.endsWith("\n") ? 1 : 0);
// Comments that open a line hold TSDoc examples that would otherwise look like exports. (Only those: a "/*" inside
// a string, a glob say, must not swallow the code up to the next comment.)
const code = (path) => (read(path) ?? "").replace(/^\s*\/\*[\s\S]*?\*\//gm, "").replace(/^\s*\/\/.*$/gm, "");

// --- files -------------------------------------------------------------------------------------------------------
const inScope = /^(packages\/[^/]+\/(src|test)|apps\/[^/]+\/src)\/.+(?<!\.d)\.ts$/;
const isTest = (p) => /\.test\.ts$/.test(p) || /^packages\/[^/]+\/test\//.test(p);
const files = paths
  .filter((p) => inScope.test(p))
  .map((p) => ({ path: p, lines: lineCount(read(p)), test: isTest(p) }));

// --- packages and entry points -----------------------------------------------------------------------------------
const packages = [...new Set(paths.map((p) => p.match(/^packages\/([^/]+)\/package\.json$/)?.[1]).filter(Boolean))]
  .map((dir) => ({ dir, json: JSON.parse(read(`packages/${dir}/package.json`)) }))
  .sort((a, b) => rank(a.dir) - rank(b.dir) || a.dir.localeCompare(b.dir));
const byName = new Map(packages.map((p) => [p.json.name, p]));

// The source file behind a package subpath: its "@lora/source" condition, else its default target if that is .ts.
function entryFile(pkg, subpath) {
  const target = typeof pkg.json.exports === "object" ? pkg.json.exports[subpath] : undefined;
  if (target === undefined && subpath !== ".") return undefined;
  const file = typeof target === "string" ? target : (target?.["@lora/source"] ?? target?.default ?? "./src/index.ts");
  return file.endsWith(".ts") ? posix.join("packages", pkg.dir, file) : undefined;
}

// A module specifier seen from `from`, as a path in the tree (or undefined for anything outside the workspace).
function resolve(from, spec) {
  if (spec.startsWith(".")) {
    const base = posix.join(posix.dirname(from), spec).replace(/\.js$/, "");
    return [`${base}.ts`, `${base}/index.ts`].find((p) => present.has(p));
  }
  const m = spec.match(/^(@lora\/[^/]+)(\/.*)?$/);
  const pkg = m && byName.get(m[1]);
  return pkg ? entryFile(pkg, m[2] ? `.${m[2]}` : ".") : undefined;
}

const specifiers = (list) =>
  list
    .split(",")
    .map((s) => s.trim().match(/^(type\s+)?([\w$]+)(?:\s+as\s+([\w$]+))?$/))
    .filter(Boolean)
    .map(([, type, name, alias]) => ({ type: Boolean(type), name, alias: alias ?? name }));

const DECL_HEAD =
  "export\\s+(?:declare\\s+)?(?:async\\s+)?(?:abstract\\s+)?(const\\s+enum|function\\*?|class|const|let|var|enum|interface|type|namespace)\\s+";
const DECL = new RegExp(`^${DECL_HEAD}([\\w$]+)`, "gm");
const kindOf = (keyword) => (keyword === "interface" || keyword === "type" ? "type" : "value");

// What a local name in `path` is: declared here, or imported (and then what it is over there).
function localKind(path, name, seen) {
  const text = code(path);
  const head = DECL_HEAD.replace("export\\s+", "(?:export\\s+)?");
  const decls = [...text.matchAll(new RegExp(`^${head}${name}\\b`, "gm"))];
  if (decls.length) return decls.some(([, keyword]) => kindOf(keyword) === "value") ? "value" : "type";
  for (const [, typeOnly, list, spec] of text.matchAll(/^import\s+(type\s+)?\{([^}]*)\}\s*from\s*["']([^"']+)["']/gm)) {
    const hit = specifiers(list).find((s) => s.alias === name);
    if (hit) return typeOnly || hit.type ? "type" : (exportsOf(resolve(path, spec), seen).get(hit.name) ?? "value");
  }
  return "value";
}

// name -> "type" | "value" for everything a module exports, following re-exports through the workspace.
const exportCache = new Map();
function exportsOf(path, seen = new Set()) {
  if (!path || seen.has(path)) return new Map();
  if (exportCache.has(path)) return exportCache.get(path);
  seen.add(path);
  const out = new Map();
  const text = code(path);
  for (const [, typeOnly, spec] of text.matchAll(/^export\s+(type\s+)?\*\s+from\s*["']([^"']+)["']/gm)) {
    for (const [name, kind] of exportsOf(resolve(path, spec), seen)) {
      if (name !== "default") out.set(name, typeOnly ? "type" : kind);
    }
  }
  for (const [, name] of text.matchAll(/^export\s+\*\s+as\s+([\w$]+)\s+from/gm)) out.set(name, "value");
  for (const [, typeOnly, list, spec] of text.matchAll(
    /^export\s+(type\s+)?\{([^}]*)\}\s*(?:from\s*["']([^"']+)["'])?/gm,
  )) {
    const target = spec === undefined ? undefined : exportsOf(resolve(path, spec), seen);
    for (const s of specifiers(list)) {
      const kind =
        typeOnly || s.type ? "type" : target ? (target.get(s.name) ?? "value") : localKind(path, s.name, seen);
      out.set(s.alias, kind);
    }
  }
  // A const and a type may share a name (declaration merging): the name is then a value.
  for (const [, keyword, name] of text.matchAll(DECL)) {
    if (out.get(name) !== "value") out.set(name, kindOf(keyword.split(/\s/)[0]));
  }
  if (/^export\s+default\b/m.test(text)) out.set("default", "value");
  seen.delete(path);
  exportCache.set(path, out);
  return out;
}

// --- import graph ------------------------------------------------------------------------------------------------
const IMPORT =
  /^\s*(?:import|export)\s+(type\s+)?([\w$*\s,{}]*?)\s*from\s*["'](@lora\/[\w.-]+)(?:\/[^"']*)?["']|import\(\s*["'](@lora\/[\w.-]+)(?:\/[^"']*)?["']\s*\)|^\s*import\s*["'](@lora\/[\w.-]+)/gm;
function importsOf(pkg) {
  const uses = new Map(); // package name -> "runtime" | "type"
  const srcFiles = files.filter((f) => !f.test && f.path.startsWith(`packages/${pkg.dir}/src/`));
  for (const { path } of srcFiles) {
    for (const [, typeOnly, clause, fromName, dynName, bareName] of code(path).matchAll(IMPORT)) {
      const name = fromName ?? dynName ?? bareName;
      const braces = clause?.match(/^\{([^}]*)\}$/);
      const allTypes = braces && specifiers(braces[1]).every((s) => s.type) && specifiers(braces[1]).length > 0;
      const kind = fromName && (typeOnly || allTypes) ? "type" : "runtime";
      if (name !== pkg.json.name && uses.get(name) !== "runtime") uses.set(name, kind);
    }
  }
  return uses;
}
const short = (name) => name.replace(/^@lora\//, "");
const loraDeps = (deps) => Object.keys(deps ?? {}).flatMap((d) => d.match(/^@lora\/(.+)$/)?.[1] ?? []);
const graph = new Map(packages.map((p) => [p.dir, importsOf(p)]));

function cycles(edges) {
  const found = new Set();
  const walk = (node, stack) => {
    if (stack.includes(node)) {
      const loop = stack.slice(stack.indexOf(node));
      const start = loop.indexOf([...loop].sort()[0]);
      found.add([...loop.slice(start), ...loop.slice(0, start), loop[start]].join(" → "));
      return;
    }
    for (const next of edges.get(node) ?? []) walk(next, [...stack, node]);
  };
  for (const node of edges.keys()) walk(node, []);
  return [...found];
}

// --- report ------------------------------------------------------------------------------------------------------
const out = [];
const table = (head, rows) => {
  out.push(`| ${head.join(" | ")} |`, `|${head.map(() => " --- ").join("|")}|`);
  for (const row of rows) out.push(`| ${row.join(" | ")} |`);
  out.push("");
};
const label = rev ? `${rev} (${git("log", "-1", "--format=%h %cs %s", rev).trim()})` : "working tree";
out.push(`# House report: ${label}`, "");

const [srcs, tests] = [files.filter((f) => !f.test), files.filter((f) => f.test)];
const big = (list) => list.filter((f) => f.lines > BIG);
const totals = (name, list) => [name, list.length, list.reduce((n, f) => n + f.lines, 0), big(list).length];
out.push("## Totals", "", "Source: `.ts` in packages/*/src, apps/*/src. Tests: `*.test.ts`, packages/*/test.", "");
table(
  ["", "files", "lines", `over ${BIG} lines`],
  [totals("source", srcs), totals("tests", tests), totals("all", files)],
);

out.push(`## Files over ${BIG} lines`, "");
function bigFiles(title, list) {
  const rows = big(list)
    .sort((a, b) => b.lines - a.lines || a.path.localeCompare(b.path))
    .map((f) => [f.lines, `\`${f.path}\``]);
  out.push(`### ${title} (${rows.length})`, "");
  if (rows.length === 0) out.push("none", "");
  else table(["lines", "file"], rows);
}
bigFiles("Source", srcs);
bigFiles("Tests", tests);

out.push("## Exports per package", "", "Names exported by each public entry point, following re-exports.", "");
const exportRows = [];
for (const pkg of packages) {
  const subpaths = typeof pkg.json.exports === "object" ? Object.keys(pkg.json.exports) : ["."];
  for (const sub of subpaths.filter((s) => !s.endsWith(".json"))) {
    const file = entryFile(pkg, sub);
    const names = [...exportsOf(file)];
    const types = names.filter(([, kind]) => kind === "type").length;
    const where = file ? `\`${file.slice(`packages/${pkg.dir}/`.length)}\`` : "(no .ts source)";
    exportRows.push([short(pkg.json.name), `\`${sub}\``, where, names.length - types, types, names.length]);
  }
}
table(["package", "entry", "source", "values", "types", "total"], exportRows);
const total = (i) => exportRows.reduce((n, r) => n + r[i], 0);
out.push(`All entry points: ${total(3)} values + ${total(4)} types = ${total(5)} names.`, "");

out.push("## Import graph (src, non-test files)", "");
const flags = [];
const graphRows = packages.map((pkg) => {
  const uses = graph.get(pkg.dir);
  const byLayer = (names) => names.sort((a, b) => rank(a) - rank(b) || a.localeCompare(b)).join(", ") || "–";
  const list = (kind) => byLayer([...uses].filter(([, k]) => k === kind).map(([n]) => short(n)));
  const deps = loraDeps(pkg.json.dependencies);
  const dev = loraDeps(pkg.json.devDependencies);
  for (const [name, kind] of uses) {
    const target = short(name);
    if (rank(target) >= 0 && rank(pkg.dir) >= 0 && rank(target) > rank(pkg.dir)) {
      flags.push(`upward ${kind} import: ${pkg.dir} → ${target}`);
    }
    if (target === TEST_ONLY && pkg.dir !== TEST_ONLY) flags.push(`src imports the test-only ${target}: ${pkg.dir}`);
    if (!deps.includes(target)) flags.push(`${kind} import not in dependencies: ${pkg.dir} → ${target}`);
  }
  if (deps.includes(TEST_ONLY)) flags.push(`test-only ${TEST_ONLY} in dependencies of ${pkg.dir}`);
  const unused = deps.filter((dep) => !uses.has(`@lora/${dep}`));
  for (const dep of unused) flags.push(`dependency never imported by src: ${pkg.dir} → ${dep}`);
  return [pkg.dir, list("runtime"), list("type"), byLayer([...deps]), byLayer([...dev])];
});
table(["package", "runtime imports", "type-only imports", "dependencies", "devDependencies"], graphRows);
const importEdges = new Map([...graph].map(([dir, uses]) => [dir, [...uses.keys()].map(short)]));
const depEdges = new Map(packages.map((p) => [p.dir, loraDeps(p.json.dependencies)]));
for (const loop of cycles(importEdges)) flags.push(`import cycle: ${loop}`);
for (const loop of cycles(depEdges)) flags.push(`dependency cycle: ${loop}`);
const layers = LAYERS.join(", ").replace("|", " / ");
out.push(`Layers, lowest first: ${layers} (one layer: not flagged); ${TEST_ONLY} is test-only.`, "");
out.push(`### Flags (${flags.length})`, "", ...(flags.length ? flags.map((f) => `- ${f}`) : ["none"]), "");

process.stdout.write(out.join("\n"));
