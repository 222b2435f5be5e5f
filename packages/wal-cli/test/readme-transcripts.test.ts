/**
 * The README's shown sessions, replayed: every `$ lora-wal …` command in a plain ``` block of this package's README
 * whose log this test can build exactly is run in-process, in a temp directory holding that log under the README's
 * name, and what it prints must be what the README shows. The blocks are read from the README at test time, so the
 * README and the test cannot drift.
 *
 * The logs: `./wal` is the LoraDB-written fixture (20-commit snapshots, bulk data over two segments; LoraDB writes it
 * byte for byte the same every time), `./wal-after-a-crash` the same with 7 bytes of a torn record appended,
 * `./wal-with-a-bad-disk` the same with one byte of the record at offset 286 overwritten, and `./json-wal` one
 * `@lora/wal` transaction in the json codec; the `follow` sessions' `./wal` (another log of the same name) is built
 * apart, in `app/`, from the transactions they show. In the README, a `...` line stands for lines left out, `…` inside a
 * line for text left out, and a command ending in `; echo $?` shows its exit code last.
 */

import { appendFile, cp, open, readFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { LORA_MULTI_SEGMENT_BYTES, makeTempDir, writeLoraFixture } from "@lora/test-utils";
import { jsonCodec, loraCodec, type MutationEvent, Wal } from "@lora/wal";
import { createPropertyMap, type PropertyValue } from "@lora/wal-codec/lora";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { runCli } from "./helpers.js";

const readme = join(fileURLToPath(import.meta.url), "../../README.md");

/** The logs this test builds, by the name the README gives them. */
const LOGS = ["./wal", "./wal-after-a-crash", "./wal-with-a-bad-disk", "./json-wal"] as const;

/** The commands whose sessions are replayed on those logs. */
const READ_COMMANDS = ["inspect", "verify", "dump", "stat"];

/**
 * The `follow` sessions show another `./wal`, one an application wrote with `@lora/wal`: built in `app/`. Those with
 * `--slot` are left out: the slot's creation shows sizes of a log with other segments.
 */
const isAppFollow = (argv: readonly string[]) =>
  argv[0] === "follow" && argv[1] === "./wal" && !argv.includes("--slot");

const props = (entries: Record<string, PropertyValue>) => Object.assign(createPropertyMap(), entries);

/** The transactions of the `follow` sessions' log. */
const APP_TRANSACTIONS: readonly (readonly MutationEvent[])[] = [
  [{ type: "CreateNode", id: 0n, labels: ["Person"], properties: props({ name: "ada", born: 1815n }) }],
  [
    { type: "CreateNode", id: 1n, labels: ["Person"], properties: props({ name: "charles" }) },
    { type: "CreateRelationship", id: 0n, src: 0n, dst: 1n, relType: "KNOWS", properties: props({ since: 1833n }) },
  ],
  [{ type: "SetNodeProperty", nodeId: 1n, key: "born", value: 1791n }],
  [{ type: "CreateNode", id: 10n, labels: ["Filler"], properties: props({ i: 0n }) }],
];

interface Session {
  /** 1-based README line of the `$` line. */
  readonly line: number;
  readonly argv: string[];
  readonly echoStatus: boolean;
  readonly expected: string[];
}

/** The `$ lora-wal …` commands of the README's plain ``` blocks, each with the lines shown after it. */
function sessions(markdown: string): Session[] {
  const out: Session[] = [];
  const lines = markdown.split("\n");
  /** Inside a fence: "plain" (a ``` block, the sessions), "other" (```sh, ```ts, …), or outside one. */
  let fence: "plain" | "other" | null = null;
  let current: Session | null = null;
  const finish = () => {
    if (current === null) return;
    while (current.expected.at(-1) === "") current.expected.pop();
    out.push(current);
    current = null;
  };
  lines.forEach((line, i) => {
    if (fence === null) {
      if (line.trimStart().startsWith("```")) fence = line === "```" ? "plain" : "other";
      return;
    }
    if (line.trimStart().startsWith("```")) {
      finish();
      fence = null;
      return;
    }
    if (fence === "other") return;
    const command = /^\$ lora-wal (.*?)(; echo \$\?)?$/.exec(line);
    if (command !== null) {
      finish();
      current = {
        line: i + 1,
        argv: (command[1] ?? "").split(" "),
        echoStatus: command[2] !== undefined,
        expected: [],
      };
    } else current?.expected.push(line);
  });
  return out;
}

/** What the README shows as a pattern: `...` lines are any lines, `…` any text within a line. */
function shownPattern(expected: readonly string[]): RegExp {
  const literal = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  const parts = expected.map((line) =>
    line === "..." ? "(?:[^\\n]*\\n)*?" : `${line.split("…").map(literal).join("[^\\n]*?")}\\n`,
  );
  return new RegExp(`^${parts.join("")}$`);
}

let tmp: { path: string; cleanup(): Promise<void> };
let cwd: string;

beforeAll(async () => {
  tmp = await makeTempDir("lora-wal-cli-readme");
  const at = (name: string) => join(tmp.path, name);
  await writeLoraFixture({
    walDir: at("wal"),
    snapshotDir: at("snap"),
    snapshotEveryCommits: 20,
    bulkBytes: LORA_MULTI_SEGMENT_BYTES,
  });
  await cp(at("wal"), at("wal-after-a-crash"), { recursive: true });
  // A record begun at the end of the newest segment: its length (80) and 3 of its bytes.
  await appendFile(join(at("wal-after-a-crash"), "0000000002.wal"), Uint8Array.of(80, 0, 0, 0, 1, 2, 3));
  await cp(at("wal"), at("wal-with-a-bad-disk"), { recursive: true });
  // One byte of the mutation batch at offset 286 (LSN 8), 14 bytes into it, overwritten.
  const bad = await open(join(at("wal-with-a-bad-disk"), "0000000001.wal"), "r+");
  await bad.write(Uint8Array.of(0xff), 0, 1, 286 + 14);
  await bad.close();
  const { wal } = await Wal.open(at("json-wal"), { codec: jsonCodec });
  await wal.commitTx([{ put: "a", value: 1 }]);
  await wal.close();
  const app = (await Wal.open(join(at("app"), "wal"), { codec: loraCodec })).wal;
  for (const events of APP_TRANSACTIONS) await app.commitTx(events);
  await app.close();
  cwd = process.cwd();
  process.chdir(tmp.path);
});

afterAll(async () => {
  if (cwd !== undefined) process.chdir(cwd);
  await tmp?.cleanup();
});

describe("the README's lora-wal sessions", async () => {
  const all = sessions(await readFile(readme, "utf8"));
  // The follow and slots sessions show another log (one written by an application, with slots and timestamps).
  const runnable = all.filter(
    (s) =>
      (READ_COMMANDS.includes(s.argv[0] ?? "") && (LOGS as readonly string[]).includes(s.argv[1] ?? "")) ||
      isAppFollow(s.argv),
  );

  test("the sessions on the logs built here are found", () => {
    // inspect, verify (clean, torn tail, corruption, codec mismatch), dump (text, json), stat, follow (text, json)
    expect(runnable.length).toBeGreaterThanOrEqual(10);
  });

  for (const session of runnable) {
    test(`README line ${session.line}: lora-wal ${session.argv.join(" ")}`, async () => {
      process.chdir(isAppFollow(session.argv) ? join(tmp.path, "app") : tmp.path);
      const result = await runCli(session.argv);
      const shown = `${result.stdout}${result.stderr}${session.echoStatus ? `${result.code}\n` : ""}`;
      expect(shown).toMatch(shownPattern(session.expected));
    });
  }
});
