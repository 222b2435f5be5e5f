/**
 * The README examples, executed: every ```ts block under `## Usage` (and `## API` or `## Observability` where it is
 * a runnable program) of the root README, each public package's README and the kv-store example's README runs for
 * real against a temp dir; a block that declares tests of its own (the conformance suite) is type-checked only.
 *
 * How: the block is written to a gitignored `.ts` file next to this test and imported (vitest transpiles it and
 * resolves `@lora/*` to source). Before that, string literals that are paths (`"./data/wal"`, `"/tmp/my-wal"`) are
 * rewritten into a fresh temp dir, `@lora/*` imports point at the package's source entry (the `@lora/source`
 * condition of its `exports`), and `console`/`apply` are stubs. A `console.log(x); // expected` line whose comment is
 * a JavaScript expression (not "e.g. …") is checked: the logged value must deep-equal the comment.
 *
 * Running them does not type-check them (vitest only strips the types), so every block is also compiled once with
 * the repo's strict compiler options: a README example must compile in a TypeScript user's project too.
 */

import { mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { dirname, join, relative } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { makeTempDir } from "@lora/test-utils";
import { loraCodec, type MutationEvent, Wal } from "@lora/wal";
import { createPropertyMap } from "@lora/wal-codec/lora";
import ts from "typescript";
import { afterAll, describe, expect, test } from "vitest";

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, "../../..");
const snippetDir = join(here, ".readme-snippets");

/** README (relative to the root) → packages whose `## Usage`/`## API` ts blocks run. */
interface ReadmeSpec {
  readonly readme: string;
  readonly sections: readonly string[];
  /**
   * Sections whose ts blocks go on from the first block (they use what it set up): each runs appended to it, as the
   * one program a reader who follows the README top to bottom has.
   */
  readonly continues?: readonly string[];
  /** Sections whose ts blocks are type-checked only (they declare tests themselves, so they cannot run inside one). */
  readonly typecheckOnly?: readonly string[];
  /** Prepare the temp paths the snippet names (e.g. write a log for a read-only tool to read). */
  readonly setup?: (paths: ReadonlyMap<string, string>) => Promise<void>;
  /** Least number of `console.log(x); // expected` lines that must have been checked in the first block. */
  readonly minChecked?: number;
  /**
   * Create the directories the example names before it runs. `false` for an example that must create them itself,
   * so one that forgets fails here as it would for a reader. @default true
   */
  readonly createPaths?: boolean;
}

/** A small LoraDB-codec log (two transactions and a checkpoint marker) for the read-only READMEs. */
async function writeLoraLog(dir: string): Promise<void> {
  const { wal } = await Wal.open(dir, { codec: loraCodec });
  const node = (id: number): MutationEvent => {
    const properties = createPropertyMap();
    properties.v = BigInt(id);
    return { type: "CreateNode", id: BigInt(id), labels: ["N"], properties };
  };
  await wal.commitTx([node(1), node(2)]);
  await wal.commitTx([node(3)]);
  await wal.checkpointMarker(wal.durableLsn());
  await wal.close();
}

const readmes: readonly ReadmeSpec[] = [
  { readme: "README.md", sections: ["Usage"] },
  { readme: "packages/wal-codec/README.md", sections: ["Usage"], minChecked: 2 },
  {
    readme: "packages/wal-segment/README.md",
    sections: ["Usage"],
    typecheckOnly: ["Implementing a custom file system / conformance suite"],
    minChecked: 1,
    createPaths: false,
  },
  {
    readme: "packages/wal-replay/README.md",
    sections: ["Usage"],
    setup: async (paths) => {
      for (const p of paths.values()) await writeLoraLog(p);
    },
  },
  { readme: "packages/wal-lock/README.md", sections: ["Usage"], minChecked: 4, createPaths: false },
  { readme: "packages/wal/README.md", sections: ["Usage", "Observability"] },
  {
    readme: "packages/wal-archive/README.md",
    sections: ["Usage"],
    continues: ["Restore and snapshots"],
    minChecked: 2,
  },
  {
    readme: "packages/wal-cli/README.md",
    sections: ["API"],
    setup: async (paths) => {
      for (const p of paths.values()) await writeLoraLog(p);
    },
  },
  { readme: "examples/kv-store/README.md", sections: ["Usage"], minChecked: 1 },
];

/** The ```ts blocks under `## <section>` (up to the next `## `). */
function tsBlocks(markdown: string, section: string): string[] {
  const lines = markdown.split("\n");
  const blocks: string[] = [];
  let inSection = false;
  let block: string[] | null = null;
  for (const line of lines) {
    if (block !== null) {
      if (line.startsWith("```")) {
        blocks.push(block.join("\n"));
        block = null;
      } else block.push(line);
      continue;
    }
    if (line.startsWith("## ")) inSection = line.slice(3).trim() === section;
    else if (inSection && line.trim() === "```ts") block = [];
  }
  return blocks;
}

/** The blocks of `spec` that run: its sections' blocks, then each continuing block appended to the first. */
function runBlocks(spec: ReadmeSpec, markdown: string): string[] {
  const blocks = spec.sections.flatMap((s) => tsBlocks(markdown, s));
  const continuing = (spec.continues ?? []).flatMap((s) => tsBlocks(markdown, s));
  return [...blocks, ...continuing.map((block) => `${blocks[0] ?? ""}\n${block}`)];
}

/** `@lora/<name>[/sub]` → the absolute path of its source entry (the `@lora/source` condition). */
async function sourceEntries(): Promise<Map<string, string>> {
  const map = new Map<string, string>();
  for (const dir of [
    "packages/wal-codec",
    "packages/wal-segment",
    "packages/wal-replay",
    "packages/wal-lock",
    "packages/wal",
    "packages/wal-archive",
    "packages/wal-cli",
    "examples/kv-store",
  ]) {
    const pkg = JSON.parse(await readFile(join(root, dir, "package.json"), "utf8")) as {
      name: string;
      exports: Record<string, string | Record<string, string>>;
    };
    for (const [sub, target] of Object.entries(pkg.exports)) {
      if (typeof target !== "object" || target["@lora/source"] === undefined) continue;
      map.set(sub === "." ? pkg.name : `${pkg.name}/${sub.slice(2)}`, join(root, dir, target["@lora/source"]));
    }
  }
  return map;
}

interface Logged {
  readonly line: number;
  readonly args: unknown[];
}

interface Prepared {
  readonly code: string;
  /** Original path literal → temp path. */
  readonly paths: Map<string, string>;
  /** Line (1-based, in the block) → expected value source. */
  readonly expectations: Map<number, string>;
}

/**
 * `block` made runnable. `importPath` says what an `@lora/*` import becomes, given the absolute path of its source
 * entry: a file URL to run it, a relative specifier to type-check it.
 */
function prepare(
  block: string,
  entries: ReadonlyMap<string, string>,
  tmp: string,
  importPath: (entry: string) => string = (entry) => pathToFileURL(entry).href,
): Prepared {
  const paths = new Map<string, string>();
  const expectations = new Map<number, string>();
  const source = block.split("\n");
  const lines = source.map((line, i) => {
    // Imports of @lora/* → the package's source entry.
    let out = line.replace(/from "(@lora\/[^"]+)"/g, (_m, spec: string) => {
      const target = entries.get(spec);
      if (target === undefined) throw new Error(`README imports ${spec}, which has no source entry`);
      return `from ${JSON.stringify(importPath(target))}`;
    });
    // Path literals → temp paths (not module specifiers, which were rewritten above).
    out = out.replace(/(?<!from )"(\.\/[^"]*|\/tmp\/[^"]*)"/g, (_m, p: string) => {
      const mapped = paths.get(p) ?? join(tmp, p.replace(/^\.?\//, ""));
      paths.set(p, mapped);
      return JSON.stringify(mapped);
    });
    // console.log(...); // expected   (or the expected value alone on the next comment line)
    const logged = /^(\s*)console\.log\((.*)\);\s*(?:\/\/\s*(.+))?$/.exec(out);
    if (logged !== null) {
      const [, indent, args, trailing] = logged as unknown as [string, string, string, string | undefined];
      const comment = trailing ?? /^\s*\/\/\s*(.+)$/.exec(source[i + 1] ?? "")?.[1];
      if (comment !== undefined && !comment.startsWith("e.g.")) expectations.set(i + 1, comment);
      out = `${indent}__readme.log(${i + 1}, ${args});`;
    }
    return out;
  });
  const header = [
    "// Generated by readme-examples.test.ts from a README block; do not edit.",
    "const __readme = (globalThis as unknown as { __readme: { log(line: number, ...args: unknown[]): void; apply(event: unknown): void } }).__readme;",
    "const console = { log: (...args: unknown[]) => __readme.log(0, ...args), error: (...args: unknown[]) => __readme.log(0, ...args) };",
    /\bapply\(/.test(block) && !/function apply|const apply/.test(block) ? "const apply = __readme.apply;" : "",
    "void console;",
  ];
  return { code: `${header.join("\n")}\n${lines.join("\n")}\nexport {};\n`, paths, expectations };
}

/** Evaluate an expected-value comment (object literal, number, string); undefined when it is prose. */
function expectedValue(source: string): { ok: true; value: unknown } | { ok: false } {
  try {
    return { ok: true, value: new Function(`return (${source});`)() as unknown };
  } catch {
    return { ok: false };
  }
}

const cleanups: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const c of cleanups) await c();
  await rm(snippetDir, { recursive: true, force: true });
});

describe("README usage examples run", async () => {
  const entries = await sourceEntries();
  for (const spec of readmes) {
    const markdown = await readFile(join(root, spec.readme), "utf8");
    const blocks = runBlocks(spec, markdown);
    test(`${spec.readme}: has a ts example`, () => {
      expect(blocks.length).toBeGreaterThan(0);
    });
    blocks.forEach((block, index) => {
      test(`${spec.readme} block ${index + 1}`, async () => {
        const tmp = await makeTempDir("lora-wal-readme");
        cleanups.push(tmp.cleanup);
        const prepared = prepare(block, entries, tmp.path);
        // Directories the example names exist (a segment path's directory, a log directory), unless it makes them.
        if (spec.createPaths !== false) for (const p of prepared.paths.values()) await mkdir(p, { recursive: true });
        await spec.setup?.(prepared.paths);
        const logs: Logged[] = [];
        const applied: unknown[] = [];
        (globalThis as { __readme?: unknown }).__readme = {
          log: (line: number, ...args: unknown[]) => logs.push({ line, args }),
          apply: (event: unknown) => applied.push(event),
        };
        const name = `${relative(root, join(root, spec.readme)).replace(/[^a-z0-9]+/gi, "-")}-${index + 1}.ts`;
        const file = join(snippetDir, name);
        await mkdir(snippetDir, { recursive: true });
        await writeFile(file, prepared.code);
        await import(/* @vite-ignore */ `${pathToFileURL(file).href}?t=${Date.now()}`);

        let checked = 0;
        for (const [line, source] of prepared.expectations) {
          const expected = expectedValue(source);
          if (!expected.ok) continue;
          const calls = logs.filter((l) => l.line === line);
          expect(calls.length, `${spec.readme} line ${line} logged`).toBeGreaterThan(0);
          for (const call of calls) expect(call.args.length === 1 ? call.args[0] : call.args).toEqual(expected.value);
          checked++;
        }
        expect(checked).toBeGreaterThanOrEqual(index === 0 ? (spec.minChecked ?? 0) : 0);
      });
    });
  }
});

const typecheckDir = join(snippetDir, "typecheck");

/** `entry` as a relative import from where the type-checked snippets are written (NodeNext: `.ts` named `.js`). */
function relativeImport(entry: string): string {
  const path = relative(typecheckDir, entry).split("\\").join("/").replace(/\.ts$/, ".js");
  return path.startsWith(".") ? path : `./${path}`;
}

describe("README usage examples type-check", () => {
  test("every block compiles under the repo's strict compiler options, as a TypeScript user's project would", async () => {
    const entries = await sourceEntries();
    await mkdir(typecheckDir, { recursive: true });
    const files: string[] = [];
    for (const spec of readmes) {
      const markdown = await readFile(join(root, spec.readme), "utf8");
      const blocks = [
        ...runBlocks(spec, markdown),
        ...(spec.typecheckOnly ?? []).flatMap((s) => tsBlocks(markdown, s)),
      ];
      for (const [index, block] of blocks.entries()) {
        const file = join(typecheckDir, `${spec.readme.replace(/[^a-z0-9]+/gi, "-")}-${index + 1}.ts`);
        await writeFile(file, prepare(block, entries, "/tmp/readme-typecheck", relativeImport).code);
        files.push(file);
      }
    }
    const base = ts.readConfigFile(join(root, "tsconfig.base.json"), (f) => ts.sys.readFile(f));
    const { options } = ts.convertCompilerOptionsFromJson(base.config.compilerOptions, root);
    const program = ts.createProgram(files, { ...options, noEmit: true });
    const problems = ts
      .getPreEmitDiagnostics(program)
      .filter((d) => d.file !== undefined && files.includes(d.file.fileName))
      .map(
        (d) =>
          `${relative(typecheckDir, d.file?.fileName ?? "")}: ${ts.flattenDiagnosticMessageText(d.messageText, " ")}`,
      );
    expect(files.length).toBeGreaterThanOrEqual(readmes.length);
    expect(problems).toEqual([]);
  });
});
