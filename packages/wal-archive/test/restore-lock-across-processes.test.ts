/**
 * A restore and a `Wal` in two processes never both own a log directory: restore takes the kernel lock `Wal.open`
 * takes (`@lora/wal-lock`) and holds it until it is done. Whichever comes second is refused with `WAL_LOCKED` and
 * changes nothing; a restore killed while it holds the lock leaves its leftovers (and the lock file, which the kernel
 * no longer holds), and running it again finishes it. (From a review: restore took no lock, so a `Wal.open` before its
 * first write created 0000000001.wal, which restore's rename then replaced, and the commits that handle acknowledged
 * afterwards went into an unlinked file.)
 */

import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { mkdir, readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { bundleScript, makeTempDir } from "@lora/test-utils";
import { Wal } from "@lora/wal";
import { type JsonValue, jsonCodec } from "@lora/wal-codec";
import { SimFS } from "@lora/wal-segment/testing";
import { afterAll, beforeAll, expect, it } from "vitest";
import { fsArchive } from "../src/fs-archive.js";
import { memoryArchive } from "../src/memory-archive.js";
import { restore } from "../src/restore.js";
import { archivedLog } from "../src/test-support/archived-log.js";
import { gatedStore } from "../src/test-support/gated-store.js";

const here = fileURLToPath(new URL(".", import.meta.url));
let holderJs: string;
let restorerJs: string;
let tmp: Awaited<ReturnType<typeof makeTempDir>>;
let archiveDir: string;
let events: JsonValue[];
let runs = 0;

beforeAll(async () => {
  [holderJs, restorerJs, tmp] = await Promise.all([
    bundleScript(join(here, "fixtures", "wal-holder.ts")),
    bundleScript(join(here, "fixtures", "paused-restore.ts")),
    makeTempDir("wal-archive-restore-lock"),
  ]);
  // The archive of a 12-commit log in several segments, copied into a directory store both processes read.
  const memory = memoryArchive();
  const lsns = await archivedLog(new SimFS(), memory, { commits: 12 });
  events = lsns.map((_, i) => ({ i }));
  archiveDir = join(tmp.path, "archive");
  const store = fsArchive(archiveDir);
  for (const { key } of await memory.list()) await store.put(key, (await memory.get(key)) as Uint8Array);
});

afterAll(async () => {
  await tmp?.cleanup();
});

/** A fresh target directory path (not created). */
function target(): string {
  return join(tmp.path, `r${++runs}`);
}

/** Every file in `dir` with its bytes. */
async function contents(dir: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const n of (await readdir(dir)).sort()) out.set(n, (await readFile(join(dir, n))).toString("hex"));
  return out;
}

async function openEvents(dir: string): Promise<JsonValue[]> {
  const { wal, events: got } = await Wal.open<JsonValue>(dir, { codec: jsonCodec });
  await wal.close();
  return got;
}

/** A child whose stdout lines can be awaited in order. */
function child(script: string, args: string[]): { proc: ChildProcess; line: () => Promise<string> } {
  const proc = spawn(process.execPath, [script, ...args], { stdio: ["pipe", "pipe", "inherit"] });
  const lines: string[] = [];
  const waiting: ((line: string) => void)[] = [];
  createInterface({ input: proc.stdout as NodeJS.ReadableStream }).on("line", (line) => {
    const next = waiting.shift();
    if (next === undefined) lines.push(line);
    else next(line);
  });
  const line = () => {
    const first = lines.shift();
    return first === undefined ? new Promise<string>((resolve) => waiting.push(resolve)) : Promise.resolve(first);
  };
  return { proc, line };
}

it.each([
  ["before its first write", 1],
  ["after its first .restoring file", 2],
])(
  "while another process's restore is paused %s, Wal.open and a second restore here are refused WAL_LOCKED, changing nothing; the restore then finishes",
  async (_, nth) => {
    const dir = target();
    const restorer = child(restorerJs, [archiveDir, dir, "get", String(nth)]);
    expect(await restorer.line()).toBe("paused");
    const before = await contents(dir);
    expect([...before.keys()].filter((n) => n.endsWith(".wal.restoring"))).toHaveLength(nth - 1);

    await expect(Wal.open<JsonValue>(dir, { codec: jsonCodec })).rejects.toMatchObject({ code: "WAL_LOCKED" });
    expect(await contents(dir)).toEqual(before);
    await expect(restore({ store: fsArchive(archiveDir), dir })).rejects.toMatchObject({ code: "WAL_LOCKED" });
    expect(await contents(dir)).toEqual(before);

    restorer.proc.stdin?.end("go\n");
    expect(await restorer.line()).toMatch(/^restored \d+$/);
    await once(restorer.proc, "exit");
    expect(await openEvents(dir)).toEqual(events);
  },
);

it.each([
  ["a missing directory", false],
  ["an empty directory", true],
])(
  "a restore into %s that another process's Wal opened while the restore listed the archive is refused WAL_LOCKED, changing nothing; that Wal's commits stay",
  async (_, create) => {
    const dir = target();
    if (create) await mkdir(dir);
    const gated = gatedStore(fsArchive(archiveDir), "list", 1);
    const restoring = restore({ store: gated.store, dir }).then(
      () => "restored",
      (e: unknown) => e,
    );
    await gated.reached;

    const holder = child(holderJs, [dir]);
    expect(await holder.line()).toMatch(/^open \d+$/);
    const before = await contents(dir);
    gated.open();
    expect(await restoring).toMatchObject({ code: "WAL_LOCKED" });
    expect(await contents(dir)).toEqual(before);

    // The holder goes on committing into the log in place, and closes it.
    holder.proc.stdin?.end();
    expect(await holder.line()).toBe("closed");
    await once(holder.proc, "exit");
    expect(await openEvents(dir)).toEqual([{ held: 1 }, { held: 2 }]);
  },
);

it("a restore SIGKILLed while it holds the lock leaves its leftovers and the lock file: Wal.open says to run the restore again (not to move the lock file out), and doing so finishes it", async () => {
  const dir = target();
  const restorer = child(restorerJs, [archiveDir, dir, "get", "3"]);
  expect(await restorer.line()).toBe("paused");
  restorer.proc.kill("SIGKILL");
  await once(restorer.proc, "exit");
  const names = await readdir(dir);
  expect(names.sort()).toEqual([".lora-wal.lock", ...names.filter((n) => n.endsWith(".wal.restoring"))].sort());
  expect(names).toHaveLength(3);

  const before = await contents(dir);
  const refused = await Wal.open<JsonValue>(dir, { codec: jsonCodec }).then(
    () => new Error("opened"),
    (e: unknown) => e as Error,
  );
  expect(refused).toMatchObject({ code: "WAL_MALFORMED" });
  expect(refused.message).toContain("run the restore again into this directory to finish it");
  expect(refused.message).not.toContain("move out");
  expect(await contents(dir)).toEqual(before);

  await restore({ store: fsArchive(archiveDir), dir });
  expect(await openEvents(dir)).toEqual(events);
});
