/**
 * `Wal.open<Job>(dir, { codec: jsonCodec })` compiles without a cast: `pnpm -F @lora/wal typecheck` compiles this
 * file (the package's tsconfig includes `src`), so a `jsonCodec` that is only a `PayloadCodec<JsonValue>` fails the
 * typecheck here. The run checks that the typed handle round-trips a job.
 */

import { makeTempDir } from "@lora/test-utils";
import { type JsonValue, jsonCodec } from "@lora/wal-codec";
import { expect, expectTypeOf, it } from "vitest";
import { Wal } from "./wal.js";

/** An event type of a store: an interface, so it has no index signature and is not a `JsonValue`. */
interface Job {
  readonly id: string;
  readonly attempts: number;
  readonly tags: readonly string[];
}

it("Wal.open<Job>(dir, { codec: jsonCodec }) type-checks and gives Job events back", async () => {
  const tmp = await makeTempDir();
  try {
    const first = await Wal.open<Job>(tmp.path, { codec: jsonCodec });
    expectTypeOf(first.wal).toEqualTypeOf<Wal<Job>>();
    await first.wal.commitTx([{ id: "a", attempts: 1, tags: ["x"] }]);
    await first.wal.close();

    const again = await Wal.open<Job>(tmp.path, { codec: jsonCodec });
    expectTypeOf(again.events).toEqualTypeOf<Job[]>();
    expect(again.events).toEqual([{ id: "a", attempts: 1, tags: ["x"] }]);
    await again.wal.close();
  } finally {
    await tmp.cleanup();
  }
});

it("Wal.open(dir, { codec: jsonCodec }) without a type argument still has JsonValue events", async () => {
  const tmp = await makeTempDir();
  try {
    const { wal, events } = await Wal.open(tmp.path, { codec: jsonCodec });
    expectTypeOf(events).toEqualTypeOf<JsonValue[]>();
    await wal.commitTx([{ any: ["json", 1] }]);
    await wal.close();
    const again = await Wal.open(tmp.path, { codec: jsonCodec });
    expect(again.events).toEqual([{ any: ["json", 1] }]);
    await again.wal.close();
  } finally {
    await tmp.cleanup();
  }
});
