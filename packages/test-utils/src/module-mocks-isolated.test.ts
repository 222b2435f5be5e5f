/**
 * Most projects run their test files without a fresh module graph each (`isolate: false` in their vitest config). A
 * file that replaces a module with `vi.mock` needs a fresh graph: beside other files it would see, or leave, the real
 * module depending on which files a worker ran first. This test fails when such a file lands in a project that does
 * not isolate (wal-cli runs its own mocking files in a separate, isolated project listed in vitest.module-mocks.ts).
 */

import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { MODULE_MOCK_TESTS } from "../../wal-cli/vitest.module-mocks.js";

const repo = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "..");

function testFiles(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: "utf8" })
    .filter((name) => name.endsWith(".test.ts") && !name.split(/[\\/]/).includes("node_modules"))
    .map((name) => join(dir, name));
}

const projects = ["packages", "apps", "examples"].flatMap((group) =>
  readdirSync(join(repo, group), { withFileTypes: true })
    .filter((entry) => entry.isDirectory())
    .map((entry) => join(repo, group, entry.name)),
);
const notIsolated = projects.filter((dir) => {
  try {
    return /\bisolate:\s*false\b/.test(readFileSync(join(dir, "vitest.config.ts"), "utf8"));
  } catch {
    return false;
  }
});

describe("files that mock a module", () => {
  it("run only where each file gets a fresh module graph", () => {
    expect(notIsolated.map((dir) => relative(repo, dir))).toContain("packages/wal-cli");
    const cli = join(repo, "packages", "wal-cli");
    const inIsolatedProject = new Set(MODULE_MOCK_TESTS.map((file) => join(cli, file)));
    const offending = notIsolated
      .flatMap(testFiles)
      .filter((file) => /\bvi\.(do)?[mM]ock\(/.test(readFileSync(file, "utf8")) && !inIsolatedProject.has(file))
      .map((file) => relative(repo, file));
    expect(offending).toEqual([]);
  });

  it("and the isolated project's list names files that exist and do mock a module", () => {
    const cli = join(repo, "packages", "wal-cli");
    for (const file of MODULE_MOCK_TESTS) expect(readFileSync(join(cli, file), "utf8")).toMatch(/\bvi\.mock\(/);
  });
});
