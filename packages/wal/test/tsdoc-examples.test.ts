/**
 * The TSDoc `@example` blocks of every package's source, type-checked: each ```ts block is read out of its doc
 * comment at test time (so the comment and the test cannot drift), given a short prelude (the imports and the
 * caller's own values the fragment takes as given, below), and compiled with the repo's strict compiler options, as
 * a reader who pastes it into a TypeScript project would compile it. The block is compiled as a virtual file inside
 * its own package's `src/`, so its imports resolve as the package's own would; nothing is written to disk.
 */

import { readdir, readFile } from "node:fs/promises";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import ts from "typescript";
import { describe, expect, test } from "vitest";

const root = join(dirname(fileURLToPath(import.meta.url)), "../../..");

/**
 * `<file>#<n>` (the n-th `@example` of the file, from 1) → what the fragment takes as given: imports it leaves out,
 * and the caller's values (`declare`d, never run). Every example found must have an entry, and every entry an example.
 */
const PRELUDES: Readonly<Record<string, string>> = {
  "packages/test-utils/src/lora-fixtures.ts#1": [
    'import { join } from "node:path";',
    'import { makeTempDir, writeLoraFixture } from "@lora/test-utils";',
  ].join("\n"),
  "packages/wal-archive/src/memory-archive.ts#1": 'import { memoryArchive } from "@lora/wal-archive/testing";',
  "packages/wal-archive/src/s3-archive.ts#1": "declare const bytes: Uint8Array;\ndeclare const checksum: number;",
  "packages/wal-archive/src/testing/archive-store-conformance.ts#1":
    'import { memoryArchive, runArchiveStoreConformance } from "@lora/wal-archive/testing";',
  "packages/wal-cli/src/main.ts#1": 'import { main } from "@lora/wal-cli";',
  "packages/wal-cli/src/commands/slots.ts#1": 'import { describeSlots } from "@lora/wal-cli";',
  "packages/wal-cli/src/commands/inspect.ts#1": 'import { inspectDir } from "@lora/wal-cli";',
  "packages/wal-cli/src/commands/stat.ts#1": 'import { statDir } from "@lora/wal-cli";',
  "packages/wal-cli/src/commands/verify.ts#1": 'import { verifyDir } from "@lora/wal-cli";',
  "packages/wal-cli/src/commands/archive.ts#1":
    'import { fsArchive } from "@lora/wal-archive";\nimport { describeArchive } from "@lora/wal-cli";',
  "packages/wal-cli/src/commands/archive.ts#2":
    'import { fsArchive } from "@lora/wal-archive";\nimport { checkArchive } from "@lora/wal-cli";',
  "packages/wal-cli/src/commands/dump.ts#1": 'import { dumpRecords } from "@lora/wal-cli";',
  "packages/wal-codec/src/lora/lora-codec.ts#1":
    'import { ByteWriter } from "@lora/wal-codec";\nimport { loraCodec } from "@lora/wal-codec/lora";',
  "packages/wal-segment/src/testing/file-system-conformance.ts#1":
    'import { runFileSystemConformance, SimFS } from "@lora/wal-segment/testing";',
  "packages/wal-segment/src/testing/sim-fs.ts#1": [
    'import type { WalFileSystem } from "@lora/wal-segment";',
    'import { SimFS } from "@lora/wal-segment/testing";',
    "declare function runWorkload(fs: WalFileSystem): Promise<void>;",
    "declare function checkRecovery(fs: WalFileSystem, description: string): Promise<void>;",
  ].join("\n"),
  "packages/wal/src/wal.ts#1": [
    'import { jsonCodec, Wal } from "@lora/wal";',
    "declare function apply(event: unknown): void;",
  ].join("\n"),
};

interface Example {
  readonly key: string;
  /** The package directory, absolute. */
  readonly packageDir: string;
  readonly code: string;
}

async function sourceFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...(await sourceFiles(path)));
    else if (entry.name.endsWith(".ts") && !entry.name.endsWith(".test.ts")) out.push(path);
  }
  return out;
}

/** The ```ts blocks that follow an `@example` tag in a doc comment, with the comment's ` * ` prefix removed. */
function examplesIn(source: string): string[] {
  const blocks: string[] = [];
  const lines = source.split("\n").map((line) => /^\s*\*(?: |$)(.*)$/.exec(line)?.[1]);
  for (let i = 0; i < lines.length; i++) {
    if (lines[i]?.trim() !== "@example" || lines[i + 1]?.trim() !== "```ts") continue;
    const block: string[] = [];
    let j = i + 2;
    for (; j < lines.length && lines[j] !== undefined && lines[j]?.trim() !== "```"; j++) block.push(lines[j] ?? "");
    if (lines[j]?.trim() !== "```") throw new Error(`an @example block that does not end with \`\`\` (line ${i + 1})`);
    blocks.push(block.join("\n"));
  }
  return blocks;
}

async function findExamples(): Promise<Example[]> {
  const examples: Example[] = [];
  for (const name of (await readdir(join(root, "packages"))).sort()) {
    const packageDir = join(root, "packages", name);
    const files = await sourceFiles(join(packageDir, "src")).catch(() => []);
    for (const file of files.sort()) {
      const blocks = examplesIn(await readFile(file, "utf8"));
      blocks.forEach((code, i) => {
        examples.push({ key: `${relative(root, file).split("\\").join("/")}#${i + 1}`, packageDir, code });
      });
    }
  }
  return examples;
}

describe("TSDoc @example blocks", async () => {
  const examples = await findExamples();

  test("every example has its prelude here, and every prelude an example", () => {
    expect(examples.map((e) => e.key).sort()).toEqual(Object.keys(PRELUDES).sort());
  });

  test("every example compiles under the repo's strict compiler options", () => {
    const base = ts.readConfigFile(join(root, "tsconfig.base.json"), (f) => ts.sys.readFile(f));
    const { options } = ts.convertCompilerOptionsFromJson(base.config.compilerOptions, root);
    const compilerOptions = { ...options, noEmit: true };
    const virtual = new Map<string, string>();
    examples.forEach((example, i) => {
      const file = join(example.packageDir, "src", `__tsdoc-example-${i + 1}.ts`);
      virtual.set(file, `${PRELUDES[example.key] ?? ""}\n${example.code}\nexport {};\n`);
    });
    const host = ts.createCompilerHost(compilerOptions);
    const { fileExists, readFile: read, getSourceFile } = host;
    host.fileExists = (f) => virtual.has(f) || fileExists.call(host, f);
    host.readFile = (f) => virtual.get(f) ?? read.call(host, f);
    host.getSourceFile = (f, language, ...rest) => {
      const text = virtual.get(f);
      return text === undefined
        ? getSourceFile.call(host, f, language, ...rest)
        : ts.createSourceFile(f, text, language);
    };
    const files = [...virtual.keys()];
    const program = ts.createProgram(files, compilerOptions, host);
    const problems = ts
      .getPreEmitDiagnostics(program)
      .filter((d) => d.file !== undefined && virtual.has(d.file.fileName))
      .map((d) => {
        const key = examples[files.indexOf(d.file?.fileName ?? "")]?.key;
        return `${key}: ${ts.flattenDiagnosticMessageText(d.messageText, " ")}`;
      });
    expect(examples.length).toBeGreaterThanOrEqual(16);
    expect(problems).toEqual([]);
  });
});
