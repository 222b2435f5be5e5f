/**
 * Issue 12 case 7: `.lora-wal.lock` removed while it is held (an operator clearing a "stale lock"), with real files,
 * real child processes and the real LoraDB engine in a child process. Also: the fstat/stat identity check at open,
 * the holder re-creating or adopting its file, the lost-lock report, and `probeDirLock` on a lock path that is not
 * a regular file.
 *
 * No test assumes a speed: conditions are awaited by polling a bounded number of times, and the holder's check
 * interval is an internal option (0 = only explicit `check()` calls, which makes most tests fully deterministic).
 * The same scenarios through `Wal.open` are in `dir-lock.removal.wal.test.ts` (kept apart so this file does not
 * depend on the handle).
 */

import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { once } from "node:events";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readdir, rename, rm, stat, unlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { isWalError, type WalError } from "@lora/wal-codec";
import { createNodeFileSystem } from "@lora/wal-segment";
import { SimFS } from "@lora/wal-segment/testing";
import { openWalDatabase } from "@loradb/lora-node";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { rejection } from "../test/support.js";
import {
  acquireDirLock,
  acquireDirLockInternal,
  type DirLock,
  type DirLockInternalOptions,
  LOCK_FILE_NAME,
  MAX_MOVED_RETRIES,
  probeDirLock,
} from "./dir-lock.js";
import { lockDirectory } from "./handle-lock.js";

const FLOCK_HOLDER = fileURLToPath(new URL("../test/fixtures/flock-holder.mjs", import.meta.url));
const LORA_HOLDER = fileURLToPath(new URL("../test/fixtures/lora-holder.mjs", import.meta.url));
const linuxOnly = process.platform !== "linux";

let dir: string;
let lockPath: string;
const cleanups: (() => Promise<void> | void)[] = [];

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "lora-wal-lock-removal-"));
  lockPath = join(dir, LOCK_FILE_NAME);
});

afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
  await rm(dir, { recursive: true, force: true });
});

/** acquireDirLockInternal with the release registered for the end of the test. No timer unless asked. */
async function acquire(options: DirLockInternalOptions = {}): Promise<DirLock> {
  const lock = await acquireDirLockInternal(dir, { checkIntervalMs: 0, ...options });
  cleanups.push(() => lock.release());
  return lock;
}

/** Waits for `condition` by polling at most `tries` times, 5 ms apart: bounded by count, not by a guess of speed. */
async function until(condition: () => boolean | Promise<boolean>, what: string, tries = 2000): Promise<void> {
  for (let i = 0; i < tries; i++) {
    if (await condition()) return;
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  throw new Error(`timed out waiting for ${what}`);
}

interface Child {
  readonly child: ChildProcess;
  readonly pid: number;
  nextLine(): Promise<string>;
  /** Resolves to the exit code (null when killed by a signal). */
  readonly exited: Promise<number | null>;
  kill(): Promise<void>;
}

/** Spawns a fixture script under this Node, reading its stdout line by line; killed at the end of the test. */
function spawnChild(script: string, args: string[]): Child {
  const child = spawn(process.execPath, [script, ...args], { stdio: ["pipe", "pipe", "pipe"] });
  child.stderr?.resume(); // the flock holder explains a refusal on stderr; the exit code is what we check
  const lines: string[] = [];
  const waiters: ((line: string) => void)[] = [];
  createInterface({ input: child.stdout as NodeJS.ReadableStream }).on("line", (line) => {
    const w = waiters.shift();
    if (w) w(line);
    else lines.push(line);
  });
  const exited = once(child, "exit").then(() => child.exitCode);
  const handle: Child = {
    child,
    pid: child.pid as number,
    exited,
    nextLine: () => {
      const line = lines.shift();
      if (line !== undefined) return Promise.resolve(line);
      return new Promise((resolve, reject) => {
        waiters.push(resolve);
        void exited.then((code) => reject(new Error(`${script} exited with ${code}`)));
      });
    },
    kill: async () => {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill("SIGKILL");
        await exited;
      }
    },
  };
  cleanups.push(() => handle.kill());
  return handle;
}

/** A LoraDB-style flock on `path` from another process: "locked", or exit code 2 when refused. */
async function childFlock(path: string): Promise<"locked" | "refused"> {
  const holder = spawnChild(FLOCK_HOLDER, [path]);
  const first = await holder.nextLine().catch(() => null);
  if (first === "locked") return "locked";
  expect(await holder.exited).toBe(2);
  return "refused";
}

/** Opens `dir` with LoraDB in this process: true when it is refused (the lock is held), false when it opened. */
async function loraRefused(): Promise<boolean> {
  try {
    const db = await openWalDatabase({ walDir: dir });
    db.dispose();
    return false;
  } catch (error) {
    // lora-node 0.15.0 maps WalError::AlreadyOpen to a generic LoraError after its own ~100 ms retry budget.
    expect(error).toMatchObject({ code: "LORA_CONNECTION" });
    return true;
  }
}

describe("case 7: .lora-wal.lock removed while a handle holds it", () => {
  it("acquireDirLock is refused through the directory lock, before it creates a lock file", async () => {
    const first = await acquire();
    expect(first.directoryLocked).toBe(process.platform !== "win32");
    await unlink(lockPath);

    const refused = await rejection(() => acquireDirLock(dir, { retryBudgetMs: 0 }));
    expect(isWalError(refused, "WAL_LOCKED")).toBe(true);
    expect((refused as { details: unknown }).details).toEqual({ path: dir });
    expect(await readdir(dir)).toEqual([]); // refused at the directory: it never touched the file
    expect(await probeDirLock(dir)).toBe("held"); // held, although the lock file is missing
    expect(await readdir(dir)).toEqual([]);

    await first.release();
    expect(await probeDirLock(dir)).toBe("missing");
    const second = await acquire();
    expect(second.held).toBe(true);
  });

  it.skipIf(linuxOnly)(
    "a LoraDB process still holding the removed file refuses our open with WAL_LOCKED naming its pid",
    async () => {
      const lora = spawnChild(LORA_HOLDER, [dir]);
      expect(await lora.nextLine()).toBe("open");
      await unlink(lockPath);

      const refused = await rejection(() => acquireDirLock(dir, { retryBudgetMs: 0 }));
      expect(isWalError(refused, "WAL_LOCKED")).toBe(true);
      expect((refused as Error).message).toContain(
        `its lock file ${lockPath} was removed while process ${lora.pid} still holds it`,
      );
      // The retry budget applies as for any contention.
      const budgeted = await rejection(() => acquireDirLock(dir));
      expect((budgeted as Error).message).toContain(`process ${lora.pid}`);
      expect(await probeDirLock(dir)).toBe("held");

      // Best effort: without a readable /proc the holder cannot be seen (documented).
      const blind = await acquireDirLockInternal(dir, { procRoot: join(dir, "no-proc"), checkIntervalMs: 0 });
      await blind.release();

      await lora.kill();
      const ours = await acquire();
      expect(ours.held).toBe(true);
    },
    30_000,
  );

  it.skipIf(linuxOnly)("a LoraDB in this process holding the removed file is found too", async () => {
    const db = await openWalDatabase({ walDir: dir });
    try {
      await unlink(lockPath);
      const refused = await rejection(() => acquireDirLock(dir, { retryBudgetMs: 0 }));
      expect(isWalError(refused, "WAL_LOCKED")).toBe(true);
      expect((refused as Error).message).toContain(`this process (${process.pid}) still holds it`);
    } finally {
      db.dispose();
    }
    const ours = await acquire();
    expect(ours.held).toBe(true);
  });

  it("LoraDB is refused while we hold, and we are refused while LoraDB holds (unchanged)", async () => {
    const ours = await acquire();
    expect(await loraRefused()).toBe(true);
    await ours.release();
    const lora = spawnChild(LORA_HOLDER, [dir]);
    expect(await lora.nextLine()).toBe("open");
    expect(isWalError(await rejection(() => acquireDirLock(dir, { retryBudgetMs: 0 })), "WAL_LOCKED")).toBe(true);
    expect(await probeDirLock(dir)).toBe("held");
  });
});

describe("the holder watches its lock file", () => {
  it("re-creates and re-locks a removed lock file on check(), so LoraDB and other processes are refused again", async () => {
    const ours = await acquire();
    const before = await stat(lockPath, { bigint: true });
    await unlink(lockPath);
    expect(await loraRefused()).toBe(false); // the hole: LoraDB only knows the file (it created a new one)...
    await unlink(lockPath); // ...(undo LoraDB's visit: it released its new file when disposed)
    await rm(join(dir, "0000000001.wal"), { force: true });

    expect(ours.check()).toBeNull();
    const after = await stat(lockPath, { bigint: true });
    expect(after.ino).not.toBe(before.ino);
    expect(await loraRefused()).toBe(true);
    expect(await childFlock(lockPath)).toBe("refused");
    expect(ours.check()).toBeNull();
    expect(ours.held).toBe(true);
  });

  it("adopts a replacement that nobody holds", async () => {
    const ours = await acquire();
    const tmp = join(dir, "replacement");
    await writeFile(tmp, "");
    const replacement = await stat(tmp, { bigint: true });
    await rename(tmp, lockPath);

    expect(ours.check()).toBeNull();
    expect((await stat(lockPath, { bigint: true })).ino).toBe(replacement.ino); // adopted, not re-created
    expect(await childFlock(lockPath)).toBe("refused");
    expect(await loraRefused()).toBe(true);
  });

  it("the background check re-creates it by itself, with an unref'd timer that stops on release", async () => {
    const timers = () => process.getActiveResourcesInfo().filter((r) => r === "Timeout").length;
    const baseline = timers();
    const ours = await acquire({ checkIntervalMs: 5 });
    expect(timers()).toBe(baseline); // unref'd: it does not keep the process alive

    await unlink(lockPath);
    await until(() => existsSync(lockPath), "the holder to re-create its lock file");
    expect(await childFlock(lockPath)).toBe("refused");
    expect(await loraRefused()).toBe(true);

    await ours.release();
    await unlink(lockPath);
    // Ten check intervals after release: nothing re-creates the file (the timer is stopped).
    for (let i = 0; i < 10; i++) await new Promise((resolve) => setTimeout(resolve, 5));
    expect(existsSync(lockPath)).toBe(false);
    expect(ours.check()).toBeNull();
  });

  it("reports WAL_LOCK_LOST on check() when LoraDB got the new lock file first", async () => {
    const ours = await acquire();
    const seen: WalError[] = [];
    ours.onLost((e) => seen.push(e));
    await unlink(lockPath);
    const lora = spawnChild(LORA_HOLDER, [dir]);
    expect(await lora.nextLine()).toBe("open"); // LoraDB is in, beside us

    const lost = ours.check();
    expect(isWalError(lost, "WAL_LOCK_LOST")).toBe(true);
    expect((lost as Error).message).toContain("another process (LoraDB?) holds the file now at that path");
    expect((lost as WalError).details).toEqual({ path: dir });
    expect(seen).toEqual([lost]);
    expect(ours.check()).toBe(lost); // stays lost, listeners are not called again
    expect(seen).toHaveLength(1);

    const late = await new Promise<WalError>((resolve) => ours.onLost(resolve));
    expect(late).toBe(lost);
    await ours.release(); // still releases cleanly
    expect(ours.held).toBe(false);
  });

  it("the background check reports the loss when the path is atomically replaced by a file another process holds", async () => {
    const ours = await acquire({ checkIntervalMs: 5 });
    const seen: WalError[] = [];
    ours.onLost((e) => seen.push(e));
    const theirs = join(dir, "theirs.lock");
    expect(await childFlock(theirs)).toBe("locked");
    await rename(theirs, lockPath);

    await until(() => seen.length > 0, "the background check to report the loss");
    expect(seen).toHaveLength(1);
    expect(isWalError(seen[0], "WAL_LOCK_LOST")).toBe(true);
    expect(ours.check()).toBe(seen[0]);
  });

  it("reports the loss when the directory itself was removed and re-created", async () => {
    const ours = await acquire();
    await rm(dir, { recursive: true });
    await mkdir(dir);
    const lost = ours.check();
    expect(isWalError(lost, "WAL_LOCK_LOST")).toBe(true);
    expect((lost as Error).message).toContain("directory");
  });

  it("onLost validates its argument and unsubscribes", async () => {
    const ours = await acquire();
    expect(
      isWalError(
        rejectSync(() => ours.onLost(42 as never)),
        "WAL_INVALID_ARGUMENT",
      ),
    ).toBe(true);
    let calls = 0;
    const off = ours.onLost(() => calls++);
    off();
    await unlink(lockPath);
    const theirs = join(dir, "theirs.lock");
    expect(await childFlock(theirs)).toBe("locked");
    await rename(theirs, lockPath);
    expect(isWalError(ours.check(), "WAL_LOCK_LOST")).toBe(true);
    expect(calls).toBe(0);
  });

  it("the handle's HeldLock exposes check() and onLost() for every file system", async () => {
    const node = await lockDirectory(createNodeFileSystem(), dir, 0, { checkIntervalMs: 0 });
    cleanups.push(() => node.release());
    await unlink(lockPath);
    expect(node.check()).toBeNull(); // re-created
    expect(await childFlock(lockPath)).toBe("refused");

    const sim = await lockDirectory(new SimFS(), "/w");
    expect(sim.check()).toBeNull();
    expect(typeof sim.onLost(() => {})).toBe("function");
    await sim.release();
  });
});

describe("identity check at open (fstat of the fd vs stat of the path)", () => {
  it("retries when the lock file is replaced between open and flock, and ends up holding the file at the path", async () => {
    const attempts: number[] = [];
    const ours = await acquire({
      beforeFileLock: async (attempt) => {
        attempts.push(attempt);
        if (attempt === 0) {
          await writeFile(join(dir, "new"), "");
          await rename(join(dir, "new"), lockPath);
        }
      },
    });
    expect(attempts).toEqual([0, 1]);
    expect(ours.check()).toBeNull();
    expect(await childFlock(lockPath)).toBe("refused");
    expect(await loraRefused()).toBe(true);
  });

  it("retries when the lock file is removed between open and flock", async () => {
    const attempts: number[] = [];
    await acquire({
      beforeFileLock: async (attempt) => {
        attempts.push(attempt);
        if (attempt === 0) await unlink(lockPath);
      },
    });
    expect(attempts).toEqual([0, 1]);
    expect(await childFlock(lockPath)).toBe("refused");
  });

  it("gives up with WAL_LOCKED after a bounded number of replacements, leaking no fd or lock", async () => {
    const fds = async () => (await readdir("/proc/self/fd")).length;
    const before = linuxOnly ? 0 : await fds();
    let attempts = 0;
    const refused = await rejection(() =>
      acquireDirLockInternal(dir, {
        checkIntervalMs: 0,
        beforeFileLock: async () => {
          attempts++;
          await unlink(lockPath);
        },
      }),
    );
    expect(isWalError(refused, "WAL_LOCKED")).toBe(true);
    expect((refused as Error).message).toContain("was removed or replaced each time it was locked");
    expect(attempts).toBe(MAX_MOVED_RETRIES + 1);
    if (!linuxOnly) expect(await fds()).toBe(before);
    const ours = await acquire(); // nothing was left locked
    expect(ours.held).toBe(true);
  });

  it("exactly one of several concurrent openers wins (directory first, then file: no livelock)", async () => {
    const results = await Promise.allSettled(
      Array.from({ length: 6 }, () => acquireDirLockInternal(dir, { retryBudgetMs: 20, checkIntervalMs: 0 })),
    );
    const won = results.filter((r) => r.status === "fulfilled");
    expect(won).toHaveLength(1);
    for (const r of results) {
      if (r.status === "rejected") expect(isWalError(r.reason, "WAL_LOCKED")).toBe(true);
      else cleanups.push(() => r.value.release());
    }
  });
});

describe("probeDirLock on a lock path that is not a regular file", () => {
  it("a directory at the lock path is WAL_IO (EISDIR), never free; acquire is refused the same way", async () => {
    await mkdir(lockPath);
    const probed = await rejection(() => probeDirLock(dir));
    expect(isWalError(probed, "WAL_IO")).toBe(true);
    expect((probed as WalError).details).toMatchObject({ path: lockPath, errno: "EISDIR" });
    const acquired = await rejection(() => acquireDirLock(dir, { retryBudgetMs: 0 }));
    expect(isWalError(acquired, "WAL_IO")).toBe(true);
    expect((acquired as WalError).details.errno).toBe("EISDIR");
  });

  it.skipIf(process.platform === "win32")(
    "a FIFO at the lock path is WAL_IO at once (the open does not hang)",
    async () => {
      execFileSync("mkfifo", [lockPath]);
      const probed = await rejection(() => probeDirLock(dir));
      expect(isWalError(probed, "WAL_IO")).toBe(true);
      expect((probed as Error).message).toContain("is a FIFO, not a regular file");
      expect(isWalError(await rejection(() => acquireDirLock(dir, { retryBudgetMs: 0 })), "WAL_IO")).toBe(true);
    },
  );
});

describe("open-time cost", () => {
  it.skipIf(linuxOnly)(
    "acquire, with and without the /proc search, and check() (informational)",
    async () => {
      const median = (xs: number[]) => (xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number) * 1000;
      const variants: [string, DirLockInternalOptions][] = [
        ["with the /proc search", {}],
        ["without", { procRoot: join(dir, "no-proc") }],
      ];
      const acquireMedians = async (rounds: number) => {
        const samples = variants.map(() => [] as number[]);
        // Interleaved, medians: the machine may be busy with other work.
        for (let i = 0; i < rounds; i++) {
          for (const [k, [, options]] of variants.entries()) {
            const start = performance.now();
            const lock = await acquireDirLockInternal(dir, { checkIntervalMs: 0, ...options });
            samples[k]?.push(performance.now() - start);
            await lock.release();
          }
        }
        return samples.map(median);
      };
      await acquireMedians(20); // warm up
      const n = 300;
      const [withProc, withoutProc] = await acquireMedians(n);
      const held = await acquire();
      const checks: number[] = [];
      for (let i = 0; i < n; i++) {
        const start = performance.now();
        held.check();
        checks.push(performance.now() - start);
      }
      await held.release();
      // A foreign flock on the same file system makes its holder's fds be read.
      const other = join(dir, "other");
      await mkdir(other);
      const lora = spawnChild(LORA_HOLDER, [other]);
      expect(await lora.nextLine()).toBe("open");
      const [withCandidate] = await acquireMedians(n);
      const us = (ms: number | undefined) => `${(ms ?? Number.NaN).toFixed(0)} µs`;
      console.info(
        `[dir-lock] acquire, median of ${n}: ${us(withProc)} with the /proc search, ${us(withoutProc)} without, ` +
          `${us(withCandidate)} with one foreign flock (a LoraDB child) on the same file system; ` +
          `check() ${median(checks).toFixed(1)} µs`,
      );
      expect(held.check()).toBeNull();
    },
    60_000,
  );
});

function rejectSync(run: () => unknown): unknown {
  try {
    run();
  } catch (error) {
    return error;
  }
  throw new Error("expected a throw");
}
