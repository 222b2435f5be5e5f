/**
 * fsyncgate between two fdatasyncs of one file: the segment writer's background sync (started once half the
 * unsynced window is written) fails, dropping the dirty pages, and a commit round's fdatasync running beside it
 * succeeds (a writeback error is reported once per open file). The round must not acknowledge the commit: its bytes
 * are in no crash image.
 */

import { type JsonValue, jsonCodec } from "@lora/wal-codec";
import { replayDir } from "@lora/wal-replay";
import type { WalFile } from "@lora/wal-segment";
import { boundProperty, SimFS, wrapFileSystem } from "@lora/wal-segment/testing";
import { describe, expect, it } from "vitest";
import { Wal } from "./wal.js";

const DIR = "/w";
const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe("a background fdatasync that fails beside a commit round's", () => {
  it("the commit is refused, never acknowledged without being durable", async () => {
    const fs = SimFS.withDir(DIR);
    const { wal } = await Wal.open<JsonValue>(DIR, {
      fs,
      codec: jsonCodec,
      blockingSync: false,
      preallocateBytes: 0,
      unsyncedWindowBytes: 4096,
    });
    await wal.commitTx(["first"]);
    // The next fdatasync fails: the background one the big commit's write starts (more than half the window).
    fs.injectFault({ op: "datasync", errno: "EIO" });
    const outcome = await wal.commitTx(["b".repeat(3000)]).then(
      () => "acknowledged",
      (error: { code?: string }) => error.code,
    );
    const durable: JsonValue[] = [];
    for await (const tx of replayDir<JsonValue>(DIR, { fs: fs.durableImage(), codec: jsonCodec })) {
      durable.push(...tx.events);
    }
    if (outcome === "acknowledged") expect(durable).toHaveLength(2);
    expect(outcome).not.toBe("acknowledged");
    await wal.close().catch(() => undefined);
  });

  it("a blocking round does not fdatasync beside it: the commit waits for it, and is refused when it fails", async () => {
    const sim = SimFS.withDir(DIR);
    // The segment's thread-pool fdatasyncs can be held; its blocking one is the file's own.
    const held: ((fail: boolean) => void)[] = [];
    let hold = false;
    const fs = wrapFileSystem(
      sim,
      (file: WalFile) =>
        new Proxy(file, {
          get(target, key) {
            if (key === "datasync" && file.path.endsWith(".wal")) {
              return async () => {
                if (hold && (await new Promise<boolean>((go) => held.push(go)))) {
                  throw Object.assign(new Error("EIO: i/o error, fdatasync"), { code: "EIO" });
                }
                await target.datasync();
              };
            }
            return boundProperty(target, key);
          },
        }),
    );
    const { wal } = await Wal.open<JsonValue>(DIR, {
      fs,
      codec: jsonCodec,
      blockingSync: true,
      preallocateBytes: 0,
      unsyncedWindowBytes: 4096,
    });
    await wal.commitTx(["first"]);
    hold = true;
    let outcome = "pending";
    const commit = wal.commitTx(["b".repeat(3000)]).then(
      () => {
        outcome = "acknowledged";
      },
      (error: { code?: string }) => {
        outcome = error.code ?? "rejected";
      },
    );
    // The big commit's write started the background fdatasync (more than half the window), which is held.
    for (let i = 0; i < 20 && held.length === 0; i++) await turn();
    expect(held).toHaveLength(1);
    for (let i = 0; i < 20; i++) await turn();
    expect(outcome).toBe("pending");
    held.shift()?.(true);
    await commit;
    expect(outcome).not.toBe("acknowledged");
    await wal.close().catch(() => undefined);
  });
});
