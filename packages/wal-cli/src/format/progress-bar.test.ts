import { describe, expect, it } from "vitest";
import { createProgressBar, renderProgressBar, wantsProgressBar } from "./progress-bar.js";
import type { TextStream } from "./terminal.js";

/** A stream that records what is written to it; a terminal or not. */
function fakeStream(isTTY: boolean | undefined): TextStream & { written: string[] } {
  const written: string[] = [];
  return {
    isTTY,
    written,
    write(chunk: string) {
      written.push(chunk);
      return true;
    },
  };
}

describe("renderProgressBar", () => {
  it("draws bytes and segments, the bar and the percentage following the bytes", () => {
    const MiB = 1024 * 1024;
    expect(
      renderProgressBar("restore", { bytesDone: 1.5 * MiB, bytesTotal: 6 * MiB, segmentsDone: 2, segmentsTotal: 6 }),
    ).toBe(`restore [#######${" ".repeat(23)}]  25%  1.5 MiB / 6.0 MiB  2/6 segments`);
    expect(renderProgressBar("restore", { bytesDone: 0, bytesTotal: 700, segmentsDone: 0, segmentsTotal: 1 }, 10)).toBe(
      "restore [          ]   0%  0 B / 700 B  0/1 segment",
    );
    expect(
      renderProgressBar("restore", { bytesDone: 700, bytesTotal: 700, segmentsDone: 1, segmentsTotal: 1 }, 10),
    ).toBe("restore [##########] 100%  700 B / 700 B  1/1 segment");
  });

  it("is full only when everything is done, and never overflows", () => {
    const almost = renderProgressBar("x", { bytesDone: 999, bytesTotal: 1000, segmentsDone: 4, segmentsTotal: 5 }, 10);
    expect(almost).toBe("x [######### ]  99%  999 B / 1000 B  4/5 segments");
    const over = renderProgressBar("x", { bytesDone: 1500, bytesTotal: 1000, segmentsDone: 5, segmentsTotal: 5 }, 10);
    expect(over).toBe("x [##########] 100%  1.5 KiB / 1000 B  5/5 segments");
    // Nothing to fetch is complete.
    expect(renderProgressBar("x", { bytesDone: 0, bytesTotal: 0, segmentsDone: 0, segmentsTotal: 0 }, 4)).toBe(
      "x [####] 100%  0 B / 0 B  0/0 segments",
    );
  });

  it("follows the segments when bytes are not counted", () => {
    expect(renderProgressBar("verify", { segmentsDone: 3, segmentsTotal: 4 }, 8)).toBe(
      "verify [######  ]  75%  3/4 segments",
    );
  });
});

describe("wantsProgressBar", () => {
  it("only on a terminal, and neither with --json nor with --quiet", () => {
    const tty = fakeStream(true);
    expect(wantsProgressBar(tty, { json: false, quiet: false })).toBe(true);
    expect(wantsProgressBar(tty, { json: true, quiet: false })).toBe(false);
    expect(wantsProgressBar(tty, { json: false, quiet: true })).toBe(false);
    expect(wantsProgressBar(fakeStream(false), { json: false, quiet: false })).toBe(false);
    // A pipe or a file stream has no isTTY at all.
    expect(wantsProgressBar(fakeStream(undefined), { json: false, quiet: false })).toBe(false);
  });
});

describe("createProgressBar", () => {
  const step = { bytesDone: 10, bytesTotal: 40, segmentsDone: 1, segmentsTotal: 4 };

  it("draws nothing when not enabled", () => {
    const stream = fakeStream(true);
    const bar = createProgressBar(stream, false, "restore", () => 1_000_000);
    bar.update(step);
    bar.done();
    expect(stream.written).toEqual([]);
  });

  it("redraws at most every 100 ms, clearing the line first, and erases itself when done", () => {
    const stream = fakeStream(true);
    let now = 5_000;
    const bar = createProgressBar(stream, true, "restore", () => now);
    bar.update(step);
    now += 99;
    bar.update(step);
    expect(stream.written).toEqual([]);
    now += 1;
    bar.update(step);
    expect(stream.written).toEqual([`\r\u001b[2K${renderProgressBar("restore", step)}`]);
    now += 50;
    bar.update({ ...step, bytesDone: 20 });
    expect(stream.written).toHaveLength(1);
    now += 50;
    bar.update({ ...step, bytesDone: 30, segmentsDone: 3 });
    expect(stream.written[1]).toBe(
      `\r\u001b[2K${renderProgressBar("restore", { ...step, bytesDone: 30, segmentsDone: 3 })}`,
    );
    bar.done();
    expect(stream.written.at(-1)).toBe("\r\u001b[2K");
    expect(stream.written).toHaveLength(3);
  });

  it("a quick run that never drew leaves nothing to erase", () => {
    const stream = fakeStream(true);
    const bar = createProgressBar(stream, true, "restore", () => 0);
    bar.update(step);
    bar.done();
    expect(stream.written).toEqual([]);
  });
});
