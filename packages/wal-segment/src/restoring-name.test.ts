/**
 * What counts as a restore's leftover is one parse, `parseRestoringSegmentId`: exactly the names `restore` writes
 * (`segmentFileName(id)` followed by `.restoring`), nothing that merely looks like one. The unfinished-restore
 * refusal counts exactly those names; a `.restoring` name restore never writes is not evidence of a restore.
 */

import { describe, expect, it } from "vitest";
import { parseRestoringSegmentId, unfinishedRestoreError } from "./segment-name.js";

/** Each name and the id it names when it is exactly what restore writes. */
const NAMES: readonly (readonly [string, number | undefined])[] = [
  ["0000000001.wal.restoring", 1],
  ["0000000012.wal.restoring", 12],
  ["12345678901.wal.restoring", 12_345_678_901],
  ["9007199254740991.wal.restoring", Number.MAX_SAFE_INTEGER],
  ["1.wal.restoring", undefined],
  ["+7.wal.restoring", undefined],
  ["+0000000007.wal.restoring", undefined],
  ["00000000001.wal.restoring", undefined],
  ["0000000000.wal.restoring", undefined],
  ["9007199254740992.wal.restoring", undefined],
  ["18446744073709551615.wal.restoring", undefined],
  ["18446744073709551616.wal.restoring", undefined],
  ["notes.restoring", undefined],
  [".restoring", undefined],
  ["0000000001.restoring", undefined],
  ["0000000001.WAL.restoring", undefined],
  ["0000000001.wal.Restoring", undefined],
  ["0000000001.wal.restoring.tmp", undefined],
  ["0000000001.wal.restoring.restoring", undefined],
  [" 0000000001.wal.restoring", undefined],
  ["0000000001.wal", undefined],
];

describe("parseRestoringSegmentId", () => {
  it("names an id for exactly the names restore writes", () => {
    for (const [name, id] of NAMES) expect(parseRestoringSegmentId(name), name).toBe(id);
  });
});

describe("unfinishedRestoreError", () => {
  it("counts exactly the names parseRestoringSegmentId parses", () => {
    for (const [name, id] of NAMES) {
      const refusal = unfinishedRestoreError("/d", [name]);
      expect(refusal === undefined, name).toBe(id === undefined);
      if (refusal !== undefined) expect(refusal.message, name).toContain(`(${name})`);
    }
  });
});
