/**
 * Every relative link of the product's markdown (the root README, docs/*.md, each package's and app's README) leads
 * somewhere: its file or directory exists in the repository, and its `#anchor`, if any, is a heading of the target
 * as GitHub slugs it (lower case, punctuation dropped, spaces to hyphens, `-1`, `-2` … for repeats).
 */

import { existsSync, statSync } from "node:fs";
import { readdir, readFile } from "node:fs/promises";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, test } from "vitest";

const root = join(dirname(fileURLToPath(import.meta.url)), "../../..");

async function markdownFiles(): Promise<string[]> {
  const files = ["README.md"];
  for (const name of (await readdir(join(root, "docs"))).sort()) if (name.endsWith(".md")) files.push(`docs/${name}`);
  for (const group of ["packages", "apps"]) {
    for (const name of (await readdir(join(root, group))).sort()) {
      if (existsSync(join(root, group, name, "README.md"))) files.push(`${group}/${name}/README.md`);
    }
  }
  return files;
}

/** `markdown` without its fenced code blocks (a link shown in a code block is no link). */
function withoutFences(markdown: string): string[] {
  const out: string[] = [];
  let fence: string | null = null;
  for (const line of markdown.split("\n")) {
    const marker = /^\s*(```+|~~~+)/.exec(line)?.[1];
    if (fence === null) {
      if (marker === undefined) out.push(line);
      else fence = marker;
    } else if (marker?.startsWith(fence)) fence = null;
  }
  return out;
}

/** A heading's anchor as GitHub makes it, before repeats are numbered. */
function githubSlug(heading: string): string {
  return heading
    .replace(/\[([^\]]*)\]\([^)]*\)/g, "$1")
    .replace(/<[^>]*>/g, "")
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\p{M}\s_-]/gu, "")
    .replace(/\s/g, "-");
}

/** The anchors of a markdown file's headings. */
function anchors(markdown: string): Set<string> {
  const seen = new Map<string, number>();
  const out = new Set<string>();
  for (const line of withoutFences(markdown)) {
    const heading = /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(line)?.[1];
    if (heading === undefined) continue;
    const slug = githubSlug(heading);
    const count = seen.get(slug) ?? 0;
    seen.set(slug, count + 1);
    out.add(count === 0 ? slug : `${slug}-${count}`);
  }
  return out;
}

interface Link {
  readonly file: string;
  readonly target: string;
}

async function relativeLinks(): Promise<Link[]> {
  const links: Link[] = [];
  for (const file of await markdownFiles()) {
    const text = withoutFences(await readFile(join(root, file), "utf8")).join("\n");
    for (const match of text.matchAll(/\]\(<?([^)\s>]+)>?(?:\s+"[^"]*")?\)/g)) {
      const target = match[1] ?? "";
      if (/^[a-z][a-z0-9+.-]*:/i.test(target)) continue; // https:, mailto:, …
      links.push({ file, target });
    }
  }
  return links;
}

describe("relative links in the docs", async () => {
  const links = await relativeLinks();

  test("GitHub's slugs of headings these docs have", () => {
    expect(githubSlug("Logs of other codecs")).toBe("logs-of-other-codecs");
    expect(githubSlug("`archive ls`")).toBe("archive-ls");
    expect(githubSlug("Implementing a custom file system / conformance suite")).toBe(
      "implementing-a-custom-file-system--conformance-suite",
    );
    expect(githubSlug("Crash testing: the method of `apps/torture`")).toBe("crash-testing-the-method-of-appstorture");
  });

  test("the docs have relative links, some with an anchor", () => {
    expect(links.length).toBeGreaterThanOrEqual(40);
    expect(links.filter((l) => l.target.includes("#")).length).toBeGreaterThanOrEqual(3);
  });

  test("every relative link leads to a file or directory of the repo, and to a heading of it", async () => {
    const broken: string[] = [];
    for (const { file, target } of links) {
      const [path = "", anchor] = target.split("#");
      const resolved = path === "" ? join(root, file) : join(root, dirname(file), decodeURI(path));
      if (relative(root, resolved).startsWith("..") || !existsSync(resolved)) {
        broken.push(`${file}: ${target} (no such file)`);
        continue;
      }
      if (anchor === undefined) continue;
      const isMarkdown = statSync(resolved).isFile() && resolved.endsWith(".md");
      if (!isMarkdown || !anchors(await readFile(resolved, "utf8")).has(decodeURIComponent(anchor))) {
        broken.push(`${file}: ${target} (no heading #${anchor})`);
      }
    }
    expect(broken).toEqual([]);
  });
});
