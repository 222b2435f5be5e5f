import { hostileValues, UNPRINTABLE_VALUES } from "@lora/test-utils";
import { describe, expect, it } from "vitest";
import {
  checkOptionsObject,
  checkPath,
  checkSignal,
  copyOfArray,
  isAbortSignal,
  MAX_ARRAY_ARGUMENT_LENGTH,
  readCallerValue,
  shownError,
  shownValue,
} from "./check-options.js";
import { WalError } from "./errors.js";

describe("checkOptionsObject", () => {
  it("accepts any object, arrays and class instances included", () => {
    for (const ok of [{}, { a: 1 }, [], new Map()]) expect(() => checkOptionsObject(ok)).not.toThrow();
  });

  it("refuses null and every primitive with WAL_INVALID_OPTION, naming what it got", () => {
    for (const [bad, got] of [
      [null, "null"],
      [undefined, "undefined"],
      ["dir", "string"],
      [1, "number"],
      [true, "boolean"],
      [() => ({}), "function"],
    ] as const) {
      expect(() => checkOptionsObject(bad)).toThrow(
        expect.objectContaining({ code: "WAL_INVALID_OPTION", message: `options must be an object, got ${got}` }),
      );
    }
  });
});

describe("checkSignal", () => {
  it("accepts an AbortSignal or nothing", () => {
    expect(() => checkSignal(undefined)).not.toThrow();
    expect(() => checkSignal(new AbortController().signal)).not.toThrow();
    expect(() => checkSignal(AbortSignal.abort())).not.toThrow();
  });

  it("refuses anything else, null and a signal-like object included", () => {
    for (const bad of [null, {}, { aborted: false, addEventListener() {} }, "signal", 0]) {
      expect(() => checkSignal(bad)).toThrow(expect.objectContaining({ code: "WAL_INVALID_OPTION" }));
    }
  });
});

describe("checkPath", () => {
  it("accepts a non-empty string, relative or absolute", () => {
    for (const ok of ["wal", "./data/wal", "/tmp/x", " "]) expect(() => checkPath(ok)).not.toThrow();
  });

  it("refuses anything else with WAL_INVALID_ARGUMENT, naming the argument and what it got", () => {
    for (const [bad, got] of [
      ["", '""'],
      ["a\0b", '"a\\u0000b"'],
      [42, "number"],
      [null, "null"],
      [undefined, "undefined"],
      [new URL("file:///tmp"), "object"],
    ] as const) {
      expect(() => checkPath(bad, "the segment path")).toThrow(
        expect.objectContaining({
          code: "WAL_INVALID_ARGUMENT",
          message: `the segment path must be a non-empty string without NUL bytes, got ${got}`,
        }),
      );
    }
  });
});

describe("shownValue", () => {
  it("shows a short object as its JSON, and any value without throwing", () => {
    expect(shownValue({ mode: "grop" })).toBe('{"mode":"grop"}');
    expect(shownValue([1, 2])).toBe("[1,2]");
    expect(shownValue({ big: 5n })).toBe("an object");
    const cyclic: { self?: unknown } = {};
    cyclic.self = cyclic;
    expect(shownValue(cyclic)).toBe("an object");
    expect(shownValue(Object.create(null))).toBe("{}");
    expect(
      shownValue({
        toJSON: () => {
          throw new Error("no");
        },
      }),
    ).toBe("an object");
    expect(shownValue(Array.from({ length: 100 }, (_, i) => i))).toBe("an array");
    expect(shownValue(5n)).toBe("5");
    expect(shownValue(Symbol("s"))).toBe("a symbol");
    expect(shownValue("x")).toBe('"x"');
    // Not plain: their JSON would read as a valid value, or as {}.
    expect(shownValue(new Number(5))).toBe("an object");
    expect(shownValue(new Date(0))).toBe("an object");
    expect(shownValue(new Map([[1, 2]]))).toBe("an object");
  });
});

describe("shownError", () => {
  it("shows a thrown value's message when it is a string, else the value, never throwing", () => {
    expect(shownError(new RangeError("out of range"))).toBe("out of range");
    expect(shownError({ message: "from a plain object" })).toBe("from a plain object");
    expect(shownError("boom")).toBe('"boom"');
    expect(shownError(undefined)).toBe("undefined");
    expect(shownError({ message: 5 })).toBe('{"message":5}');
    const throwingMessage = {
      get message(): string {
        throw new Error("no");
      },
    };
    expect(shownError(throwingMessage)).toBe("an object");
    for (const [label, value] of UNPRINTABLE_VALUES) expect(() => shownError(value), label).not.toThrow();
  });

  it("never throws for a proxy that throws at every step, revoked or trapped, object or function", () => {
    const revokedObject = Proxy.revocable({}, {});
    revokedObject.revoke();
    const revokedArray = Proxy.revocable([1], {});
    revokedArray.revoke();
    const revokedFunction = Proxy.revocable(() => undefined, {});
    revokedFunction.revoke();
    const fail = () => {
      throw new Error("trap");
    };
    const trapped = new Proxy({}, { get: fail, getPrototypeOf: fail, ownKeys: fail, has: fail });
    const trappedPlain = new Proxy({}, { get: fail, ownKeys: fail });
    expect(shownError(revokedObject.proxy)).toBe("an object");
    expect(shownError(revokedArray.proxy)).toBe("an object");
    expect(shownError(revokedFunction.proxy)).toBe("a function");
    expect(shownError(trapped)).toBe("an object");
    expect(shownError(trappedPlain)).toBe("an object");
    expect(shownValue(revokedObject.proxy)).toBe("an object");
    expect(shownValue(trappedPlain)).toBe("an object");
  });
});

describe("readCallerValue", () => {
  it("returns what the read returns", () => {
    expect(readCallerValue(() => 5, "WAL_INVALID_ARGUMENT", "reading x")).toBe(5);
  });

  it("refuses what the read throws with the code given, the throw as the cause; a WalError passes through", () => {
    const { proxy, revoke } = Proxy.revocable({}, {});
    revoke();
    let error: unknown;
    try {
      readCallerValue(() => Object.keys(proxy), "WAL_INVALID_OPTION", "f: reading the options", { option: "a" });
    } catch (e) {
      error = e;
    }
    expect(error).toMatchObject({ name: "WalError", code: "WAL_INVALID_OPTION", details: { option: "a" } });
    expect((error as Error).message).toMatch(/^f: reading the options threw: Cannot perform 'ownKeys'/);
    expect((error as Error).cause).toBeInstanceOf(TypeError);
    const own = new WalError("WAL_CLOSED", "closed");
    expect(() =>
      readCallerValue(
        () => {
          throw own;
        },
        "WAL_INVALID_ARGUMENT",
        "x",
      ),
    ).toThrow(own);
  });
});

describe("isAbortSignal", () => {
  it("tells an AbortSignal from anything else", () => {
    expect(isAbortSignal(new AbortController().signal, "WAL_INVALID_OPTION", "x")).toBe(true);
    expect(isAbortSignal(AbortSignal.abort(), "WAL_INVALID_OPTION", "x")).toBe(true);
    for (const other of [undefined, null, {}, { aborted: false }, "signal", new AbortController()]) {
      expect(isAbortSignal(other, "WAL_INVALID_OPTION", "x")).toBe(false);
    }
  });

  it("refuses a value that throws when its prototype is read with the code, message and details given", () => {
    const prototypeRead = new Error("no prototype");
    const trapped = new Proxy(
      {},
      {
        getPrototypeOf() {
          throw prototypeRead;
        },
      },
    );
    for (const code of ["WAL_INVALID_OPTION", "WAL_INVALID_ARGUMENT"] as const) {
      let error: unknown;
      try {
        isAbortSignal(trapped, code, "put k: reading signal", { object: "k" });
      } catch (e) {
        error = e;
      }
      expect(error).toMatchObject({
        name: "WalError",
        code,
        message: "put k: reading signal threw: no prototype",
        details: { object: "k" },
      });
      expect((error as Error).cause).toBe(prototypeRead);
    }
  });
});

describe("checkSignal with a value that throws when looked at", () => {
  it("refuses a revoked proxy and a proxy whose getPrototypeOf throws with WAL_INVALID_OPTION", () => {
    for (const [label, value] of hostileValues()) {
      if (value === undefined) continue;
      expect(() => checkSignal(value), label).toThrow(expect.objectContaining({ code: "WAL_INVALID_OPTION" }));
    }
  });
});

describe("checkSignal for another entry point (a store call's signal argument)", () => {
  const check = { code: "WAL_INVALID_ARGUMENT", where: "get k", details: { object: "k" } } as const;

  it("refuses with the code, the message prefix and the details it is given", () => {
    expect(() => checkSignal("x", check)).toThrow(
      expect.objectContaining({
        code: "WAL_INVALID_ARGUMENT",
        message: 'get k: signal must be an AbortSignal, got "x"',
        details: { object: "k" },
      }),
    );
    expect(() => checkSignal(new AbortController().signal, check)).not.toThrow();
    expect(() => checkSignal(undefined, check)).not.toThrow();
  });

  it("refuses a signal that throws when its prototype is read the same way, the throw as the cause", () => {
    const { proxy, revoke } = Proxy.revocable({}, {});
    revoke();
    let error: unknown;
    try {
      checkSignal(proxy, check);
    } catch (e) {
      error = e;
    }
    expect(error).toMatchObject({ code: "WAL_INVALID_ARGUMENT", details: { object: "k" } });
    expect((error as Error).message).toMatch(/^get k: reading signal threw: /);
    expect((error as { cause?: unknown }).cause).toBeInstanceOf(TypeError);
  });

  it("without a check, is the option check it was: WAL_INVALID_OPTION, no prefix", () => {
    expect(() => checkSignal(1)).toThrow(
      expect.objectContaining({ code: "WAL_INVALID_OPTION", message: "signal must be an AbortSignal, got 1" }),
    );
  });
});

describe("copyOfArray", () => {
  const isNumber = (x: unknown): x is number => typeof x === "number";

  it("copies an array whose every element is accepted, and refuses anything else", () => {
    const given = [1, 2, 3];
    const copy = copyOfArray(given, isNumber);
    expect(copy).toEqual([1, 2, 3]);
    expect(copy).not.toBe(given);
    expect(copyOfArray([1, "2"], isNumber)).toBeUndefined();
    const holed = [1, 2, 3];
    delete holed[1]; // a hole reads as undefined
    expect(copyOfArray(holed, isNumber)).toBeUndefined();
    expect(copyOfArray({ length: 1, 0: 1 }, isNumber)).toBeUndefined();
    expect(copyOfArray("12", isNumber)).toBeUndefined();
  });

  it("reads the length and each element once, in order, and stops at the first refused", () => {
    const reads: string[] = [];
    const proxy = new Proxy([1, "x", 3], {
      get(target, key, receiver) {
        reads.push(String(key));
        return Reflect.get(target, key, receiver);
      },
    });
    expect(copyOfArray(proxy, isNumber)).toBeUndefined();
    expect(reads).toEqual(["length", "0", "1"]);
  });
});

/**
 * An array proxy claiming `length` elements, each a valid one (`element`): a copy that trusts the length reads it for
 * ever. Counts the element reads, and throws past `budget` of them so that a loop that does not stop ends.
 */
function claiming(length: number, element: unknown, budget = 1000): { value: unknown[]; elementReads: () => number } {
  let reads = 0;
  const value = new Proxy([] as unknown[], {
    get(target, key, receiver) {
      if (key === "length") return length;
      if (typeof key === "string" && /^[0-9]+$/.test(key)) {
        if (++reads > budget) throw new Error(`more than ${budget} elements read`);
        return element;
      }
      return Reflect.get(target, key, receiver);
    },
  });
  return { value, elementReads: () => reads };
}

describe("copyOfArray's length bound", () => {
  const isNumber = (x: unknown): x is number => typeof x === "number";

  it("refuses an array claiming more than MAX_ARRAY_ARGUMENT_LENGTH elements before reading one", () => {
    for (const length of [MAX_ARRAY_ARGUMENT_LENGTH + 1, 2 ** 32 - 1]) {
      const lying = claiming(length, 1);
      expect(copyOfArray(lying.value, isNumber)).toBeUndefined();
      expect(lying.elementReads(), String(length)).toBe(0);
    }
  });

  it("takes a tighter bound from the caller, and copies up to it", () => {
    expect(copyOfArray([1, 2, 3], isNumber, 3)).toEqual([1, 2, 3]);
    const lying = claiming(4, 1);
    expect(copyOfArray(lying.value, isNumber, 3)).toBeUndefined();
    expect(lying.elementReads()).toBe(0);
  });
});

describe("shownValue of a long array", () => {
  it("describes an array claiming billions of elements after reading a bounded number of them", () => {
    // 2^32 - 1 elements cannot fit a string (V8 refuses at once); 2^24 can, and were read one by one.
    for (const length of [2 ** 24, 2 ** 32 - 1]) {
      const lying = claiming(length, 1);
      expect(shownValue(lying.value)).toBe("an array");
      expect(lying.elementReads(), String(length)).toBeLessThanOrEqual(100);
      const nested = claiming(length, "x");
      expect(shownValue({ kinds: nested.value })).toBe("an object");
      expect(nested.elementReads(), String(length)).toBeLessThanOrEqual(100);
    }
  });

  it("still shows a short array or object as JSON", () => {
    expect(shownValue([1, 2, 3])).toBe("[1,2,3]");
    expect(shownValue({ mode: "grop", list: ["a"] })).toBe('{"mode":"grop","list":["a"]}');
  });
});
