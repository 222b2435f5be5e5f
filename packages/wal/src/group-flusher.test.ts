import { describe, expect, it, vi } from "vitest";
import type { CommitPipeline } from "./commit-pipeline.js";
import { GroupFlusher } from "./group-flusher.js";
import { noFailpoint } from "./testing-hooks.js";

describe("GroupFlusher", () => {
  it("keeps the process alive while any whenDurable waits, not only until the first one is done", () => {
    const spy = vi.spyOn(globalThis, "setInterval");
    try {
      // The pipeline is not read: the timer never fires within the test.
      const flusher = new GroupFlusher(3_600_000, {} as CommitPipeline, noFailpoint, () => false);
      const timer = spy.mock.results.at(-1)?.value as NodeJS.Timeout;
      expect(timer.hasRef()).toBe(false);
      flusher.hold();
      flusher.hold();
      expect(timer.hasRef()).toBe(true);
      flusher.release();
      expect(timer.hasRef()).toBe(true);
      flusher.release();
      expect(timer.hasRef()).toBe(false);
      flusher.stop();
    } finally {
      spy.mockRestore();
    }
  });
});
