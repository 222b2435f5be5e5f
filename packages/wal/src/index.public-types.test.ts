import { SimFS } from "@lora/wal-segment/testing";
import { expect, expectTypeOf, it } from "vitest";
import { type CheckpointInfo, type JsonValue, jsonCodec, type ScanFrom, Wal, type WalOptions } from "./index.js";

// Every type a public signature of the handle names is importable from the package: a store author writes
// `const info: CheckpointInfo = await wal.checkpoint(f)` or builds `WalOptions` from a `ScanFrom` setting without
// reaching into a dependency's package or spelling the type out. (A missing export fails `pnpm typecheck`.)

it("exports the types wal.checkpoint() resolves to and WalOptions.scanFrom takes", async () => {
  expectTypeOf<Awaited<ReturnType<Wal<JsonValue>["checkpoint"]>>>().toEqualTypeOf<CheckpointInfo>();
  expectTypeOf<NonNullable<WalOptions<JsonValue>["scanFrom"]>>().toEqualTypeOf<ScanFrom>();

  const scanFrom: ScanFrom = "fence";
  const { wal } = await Wal.open<JsonValue>("/w", { codec: jsonCodec, fs: new SimFS(), scanFrom });
  const commit = await wal.commitTx([{ put: "a" }]);
  const info: CheckpointInfo = await wal.checkpoint(commit?.commitLsn as number);
  expect(info).toEqual({ markerLsn: 4, snapshotLsn: 3, removedSegments: 0 });
  await wal.close();
});
