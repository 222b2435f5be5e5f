import { execFileSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { shellPath } from "./shell-path.js";

describe("shellPath", () => {
  it("leaves a plain path bare, quotes anything else, and never lets a path read as an option", () => {
    expect(shellPath("/data/wal-1/x.y")).toBe("/data/wal-1/x.y");
    expect(shellPath("/my logs/w")).toBe("'/my logs/w'");
    expect(shellPath("/it's/w")).toBe(`'/it'\\''s/w'`);
    expect(shellPath("-w")).toBe("./-w");
    expect(shellPath("")).toBe("''");
  });

  it("is read back by a POSIX shell as the same single word", () => {
    for (const path of [
      "/a b",
      "/it's",
      "/$HOME/`x`/!y",
      "/new\nline",
      "/é ü",
      "-w",
      "/a*?[b]",
      "",
      "~",
      "~/w",
      "#w",
      "a;b",
      "a|b&c",
    ]) {
      const echoed = execFileSync("/bin/sh", ["-c", `printf '%s\\0' ${shellPath(path)}`]).toString();
      expect(echoed, JSON.stringify(path)).toBe(`${path.startsWith("-") ? `./${path}` : path}\0`);
    }
  });
});
