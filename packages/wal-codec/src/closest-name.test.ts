import { describe, expect, it } from "vitest";
import { closestName } from "./closest-name.js";

describe("closestName", () => {
  const known = ["inspect", "verify", "dump", "codec", "codec-module", "from-lsn"];

  it("gives the same name in another case first, else the nearest within 2 edits (1 under 6 letters)", () => {
    expect(closestName("CODEC", known)).toBe("codec");
    expect(closestName("inspct", known)).toBe("inspect");
    expect(closestName("codecc", known)).toBe("codec");
    expect(closestName("codec-modul", known)).toBe("codec-module");
    expect(closestName("from-lns", known)).toBe("from-lsn");
    expect(closestName("dmp", known)).toBe("dump");
    expect(closestName("verfiy", known)).toBe("verify"); // 2 edits at 6 letters
  });

  it("gives undefined when no known name is that close, or none is known", () => {
    expect(closestName("dmpx", known)).toBeUndefined(); // 2 edits, under 6 letters
    expect(closestName("frobnicate", known)).toBeUndefined();
    expect(closestName("codec", [])).toBeUndefined();
  });

  it("else gives the one known name a name of 3 letters or more starts, as a name cut short", () => {
    expect(closestName("sync", ["codec", "syncMode", "segmentTargetBytes"])).toBe("syncMode");
    expect(closestName("segmentTarget", ["codec", "syncMode", "segmentTargetBytes"])).toBe("segmentTargetBytes");
    expect(closestName("ver", known)).toBe("verify");
    expect(closestName("cod", known)).toBeUndefined(); // codec and codec-module both start with it
    expect(closestName("du", known)).toBeUndefined(); // too short to guess from
  });
});
