import { expectTypeOf, it } from "vitest";
import type { checkArchive, DumpDamage, SegmentScan, TransferProgress, TruncationGap, VerifyReport } from "./index.js";

// Every type an exported signature names is importable from the package: a caller of `checkArchive` types its
// progress callback, one of `dumpRecords` the damage it yields, one of `verifyDir` the truncation gap it reports.
// (A missing export fails `pnpm typecheck`.)

it("exports the types of checkArchive's progress, a dump's damage and verify's truncation gap", () => {
  type Progress = Parameters<NonNullable<NonNullable<Parameters<typeof checkArchive>[1]>["onProgress"]>>[0];
  expectTypeOf<Progress>().toEqualTypeOf<TransferProgress>();
  expectTypeOf<DumpDamage["scan"]>().toEqualTypeOf<SegmentScan>();
  expectTypeOf<NonNullable<VerifyReport["replay"]>["truncationGap"]>().toEqualTypeOf<TruncationGap | null>();
});
