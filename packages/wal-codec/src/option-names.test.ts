import { readOnce } from "@lora/test-utils";
import { describe, expect, it } from "vitest";
import { checkOptionNames, optionNames, optionOr } from "./option-names.js";

const KNOWN = optionNames<{ syncMode?: string; recovery?: string; checkpointLsn?: number; fs?: object }>()(
  "syncMode",
  "recovery",
  "checkpointLsn",
  "fs",
);

function refusal(options: object): unknown {
  try {
    checkOptionNames(options, KNOWN, "Wal.open");
  } catch (error) {
    return error;
  }
  return undefined;
}

describe("checkOptionNames", () => {
  it("accepts the known names, given or undefined, and an empty object", () => {
    expect(refusal({})).toBeUndefined();
    expect(refusal({ syncMode: "group", recovery: undefined, checkpointLsn: 3, fs: {} })).toBeUndefined();
  });

  it("refuses options that are not an object first, as checkOptionsObject does, naming the call", () => {
    expect(() => checkOptionNames(null, KNOWN, "Wal.open")).toThrow(
      expect.objectContaining({ code: "WAL_INVALID_OPTION", message: "Wal.open: options must be an object, got null" }),
    );
  });

  it("refuses an unknown name with WAL_INVALID_OPTION, naming the call, the name and the known names", () => {
    expect(refusal({ syncMode: "group", colour: "blue" })).toMatchObject({
      code: "WAL_INVALID_OPTION",
      message: 'Wal.open: unknown option "colour"; known options: syncMode, recovery, checkpointLsn, fs',
      details: { option: "colour", knownOptions: ["syncMode", "recovery", "checkpointLsn", "fs"] },
    });
  });

  it("suggests the known name a misspelling most likely meant: another case, or up to 2 edits away (1 under 6 letters)", () => {
    for (const [typo, meant] of [
      ["recover", "recovery"],
      ["syncmode", "syncMode"],
      ["SYNCMODE", "syncMode"],
      ["checkpointLSN", "checkpointLsn"],
      ["chekpointLsn", "checkpointLsn"],
      ["sycnMode", "syncMode"],
      ["f", "fs"],
    ] as const) {
      expect(refusal({ [typo]: 1 }), typo).toMatchObject({
        message: expect.stringContaining(`unknown option "${typo}" (did you mean "${meant}"?)`),
      });
    }
  });

  it("suggests the one known option a name cut short starts", () => {
    expect(refusal({ sync: "none" })).toMatchObject({ message: expect.stringContaining('did you mean "syncMode"') });
    expect(refusal({ checkpoint: 3 })).toMatchObject({
      message: expect.stringContaining('did you mean "checkpointLsn"'),
    });
  });

  it("suggests nothing for a name further from every known one", () => {
    for (const far of ["durability", "mode", "x", "fsx2", "checkpointing", "syncModes!!"]) {
      expect(refusal({ [far]: 1 }), far).toMatchObject({ message: expect.not.stringContaining("did you mean") });
    }
  });

  it("ignores symbol keys (hooks that ride on options) and inherited properties", () => {
    const withSymbol = { syncMode: "group", [Symbol.for("hooks")]: {} };
    expect(refusal(withSymbol)).toBeUndefined();
    const inherited = Object.create({ colour: "blue" }) as object;
    expect(refusal(inherited)).toBeUndefined();
  });

  it("refuses a non-enumerable own name only if enumerable: Object.keys decides what a caller passed", () => {
    const hidden = Object.defineProperty({}, "colour", { value: 1, enumerable: false });
    expect(refusal(hidden)).toBeUndefined();
  });
});

describe("optionNames", () => {
  it("returns the names given, frozen", () => {
    expect(KNOWN).toEqual(["syncMode", "recovery", "checkpointLsn", "fs"]);
    expect(Object.isFrozen(KNOWN)).toBe(true);
  });
});

describe("checkOptionNames on options that throw when read", () => {
  it("refuses a getter, a proxy trap or a revoked proxy that throws with WAL_INVALID_OPTION, the throw as its cause", () => {
    const { proxy: revoked, revoke } = Proxy.revocable({}, {});
    revoke();
    const trap = new Error("trap");
    const throwing: [string, object][] = [
      [
        "a getter",
        Object.defineProperty({}, "recovery", {
          enumerable: true,
          get: () => {
            throw trap;
          },
        }),
      ],
      [
        "a get trap",
        new Proxy(
          {},
          {
            get: () => {
              throw trap;
            },
          },
        ),
      ],
      [
        "an ownKeys trap",
        new Proxy(
          {},
          {
            ownKeys: () => {
              throw trap;
            },
          },
        ),
      ],
      ["a revoked proxy", revoked],
    ];
    for (const [label, options] of throwing) {
      const error = refusal(options);
      expect(error, label).toMatchObject({ name: "WalError", code: "WAL_INVALID_OPTION" });
      expect((error as Error).message, label).toMatch(
        /^Wal\.open: reading (the options|option "(recovery|syncMode)") threw: (trap|Cannot perform)/,
      );
    }
    expect((refusal(throwing[0]?.[1] as object) as Error).cause).toBe(trap);
    expect(refusal(throwing[0]?.[1] as object)).toMatchObject({ details: { option: "recovery" } });
  });
});

describe("checkOptionNames reads each option once and hands back what it read", () => {
  it("returns a plain copy of the known options, each read once, for the caller to use instead of the options", () => {
    const fs = {};
    const given = readOnce({ syncMode: "group", checkpointLsn: 3, fs });
    const read = checkOptionNames(given.value, KNOWN, "Wal.open");
    expect(given.readTwice()).toEqual([]);
    expect(Object.getPrototypeOf(read)).toBe(Object.prototype);
    expect(read).toEqual({ syncMode: "group", checkpointLsn: 3, fs });
    expect((read as { fs: unknown }).fs).toBe(fs);
    // What the entry point then reads is the copy: the caller's getters are not asked again.
    expect((read as { syncMode: unknown }).syncMode).toBe("group");
    expect(given.readTwice()).toEqual([]);
  });

  it("leaves out the options that read as undefined, and keeps a known option found on the prototype", () => {
    const read = checkOptionNames(Object.assign(Object.create({ recovery: "strict" }), { fs: undefined }), KNOWN, "x");
    expect(read).toEqual({ recovery: "strict" });
    expect(Object.keys(read)).toEqual(["recovery"]);
  });

  it("hands back what the first read answered when a getter answers differently the next time", () => {
    let reads = 0;
    const options = {
      get checkpointLsn() {
        reads++;
        return reads === 1 ? 3 : "three";
      },
    };
    const read = checkOptionNames(options, KNOWN, "x") as { checkpointLsn?: unknown };
    expect(read.checkpointLsn).toBe(3);
    expect(read.checkpointLsn).toBe(3);
    expect(reads).toBe(1);
  });
});

describe("optionOr", () => {
  it("takes the default for undefined only: null, 0, false and '' are the caller's values", () => {
    expect(optionOr(undefined, 7)).toBe(7);
    for (const given of [null, 0, false, "", Number.NaN]) expect(optionOr<unknown>(given, 7)).toBe(given);
  });
});
