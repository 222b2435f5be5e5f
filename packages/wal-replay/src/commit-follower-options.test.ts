import { jsonCodec } from "@lora/wal-codec";
import { SimFS } from "@lora/wal-segment/testing";
import { describe, expect, it } from "vitest";
import { CommitFollower, type FollowSource } from "./commit-follower.js";
import { MAX_REMEMBERED_TOKENS } from "./commit-follower-options.js";

/** A source that counts every call: a refused follower must not have touched it. */
function countingSource(): FollowSource & { calls: number } {
  const source = {
    calls: 0,
    durability: () => {
      source.calls++;
      return Promise.resolve(null);
    },
    changed: () => {
      source.calls++;
      return Promise.resolve();
    },
  };
  return source;
}

const base = (source: FollowSource) =>
  ({ dir: "/w", fs: new SimFS(), codec: jsonCodec, after: 0, durability: "durable", source }) as const;

describe("CommitFollower refuses options it would misbehave on", () => {
  const bad: [string, Record<string, unknown>][] = [
    ["after NaN", { after: Number.NaN }],
    ["after null", { after: null }],
    ["after -1", { after: -1 }],
    ["after 1.5", { after: 1.5 }],
    ["after a string", { after: "3" }],
    ["restartLsn above after + 1", { after: 3, restartLsn: 5 }],
    ["durability 'Durable'", { durability: "Durable" }],
    ["durability undefined", { durability: undefined }],
    ["rememberTokens 2.5", { rememberTokens: 2.5 }],
    ["rememberTokens -1", { rememberTokens: -1 }],
    ["rememberTokens null", { rememberTokens: null }],
    ["rememberTokens past the bound", { rememberTokens: MAX_REMEMBERED_TOKENS + 1 }],
  ];
  for (const [what, options] of bad) {
    it(`${what}: WAL_INVALID_OPTION, nothing read`, () => {
      const source = countingSource();
      expect(() => new CommitFollower({ ...base(source), ...options } as never)).toThrow(
        expect.objectContaining({ code: "WAL_INVALID_OPTION" }),
      );
      expect(source.calls).toBe(0);
    });
  }

  it("takes the values at the edges", async () => {
    for (const options of [
      { rememberTokens: 0 },
      { rememberTokens: MAX_REMEMBERED_TOKENS },
      { durability: "written" },
    ]) {
      const follower = new CommitFollower({ ...base(countingSource()), ...options } as never);
      await follower.return();
    }
  });
});
