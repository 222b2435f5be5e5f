/**
 * A `--codec-module` may throw anything, at its top level or from its decode methods. The CLI printed what it threw
 * with `String()`, which throws a `TypeError` for a null-prototype object and rethrows a `toString` that throws: a
 * module that failed to load became "unexpected error" with a stack trace (exit 4) instead of a usage error (exit
 * 3), and a payload it refused became the same instead of a codec mismatch (exit 5).
 */

import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { makeTempDir, UNPRINTABLE_VALUES } from "@lora/test-utils";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCli, writeJsonWal } from "./helpers.js";

/** Where a generated module finds the value to throw: the modules run in this process (`runCli` is in-process). */
const THROWN = Symbol.for("@lora/wal-cli test: the value to throw");
const holder = globalThis as unknown as Record<symbol, unknown>;

const stackLines = (text: string) => text.split("\n").filter((line) => /^\s+at /.test(line));

describe("a --codec-module that throws a value with no printable form", () => {
  let tmp: { path: string; cleanup(): Promise<void> };
  let dir: string;
  let modules = 0;
  /** A new module file (each import is cached by its URL) with `source`. */
  const moduleWith = async (source: string): Promise<string> => {
    const file = join(tmp.path, `codec-${++modules}.mjs`);
    await writeFile(file, source);
    return file;
  };
  beforeAll(async () => {
    tmp = await makeTempDir("lora-wal-cli-codec-throws");
    dir = join(tmp.path, "wal");
    await writeJsonWal(dir, 2);
  });
  afterAll(async () => {
    delete holder[THROWN];
    await tmp.cleanup();
  });

  for (const [label, thrown] of UNPRINTABLE_VALUES) {
    it(`${label}, at its top level: a usage error (exit 3) saying it did not load`, async () => {
      holder[THROWN] = thrown;
      const file = await moduleWith(`throw globalThis[Symbol.for(${JSON.stringify(THROWN.description)})];\n`);
      const result = await runCli(["verify", dir, "--codec-module", file]);
      expect(result.stderr).toContain(`--codec-module ${file} did not load: `);
      expect(result.code).toBe(3);
      expect(stackLines(result.stderr)).toEqual([]);
    });

    it(`${label}, from decodeEvent and decodeBatch: a codec mismatch (exit 5)`, async () => {
      holder[THROWN] = thrown;
      const file = await moduleWith(
        [
          `const fail = () => { throw globalThis[Symbol.for(${JSON.stringify(THROWN.description)})]; };`,
          `export const codec = { name: "throws", decodeEvent: fail, decodeBatch: fail };`,
          "",
        ].join("\n"),
      );
      const result = await runCli(["verify", dir, "--codec-module", file]);
      expect(result.stdout).toContain('codec "throws" decodeBatch threw: ');
      expect(result.code).toBe(5);
      expect(stackLines(result.stdout + result.stderr)).toEqual([]);
    });
  }
});
