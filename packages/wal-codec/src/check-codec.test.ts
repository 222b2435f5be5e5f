import { hostileValues } from "@lora/test-utils";
import { describe, expect, it } from "vitest";
import { checkPayloadCodec, payloadCodecProblem } from "./check-codec.js";
import { jsonCodec } from "./json-codec.js";

const fn = () => undefined;
const decodeOnly = { name: "d", decodeEvent: fn, decodeBatch: fn };

describe("payloadCodecProblem", () => {
  it("names the first thing missing, for the use asked", () => {
    expect(payloadCodecProblem(null)).toBe("is null, not a codec object");
    expect(payloadCodecProblem(undefined, "read")).toBe("is undefined, not a codec object");
    expect(payloadCodecProblem(() => jsonCodec)).toBe("is function, not a codec object");
    expect(payloadCodecProblem({ decodeEvent: fn, decodeBatch: fn }, "read")).toBe("has no string 'name'");
    expect(payloadCodecProblem({ name: "x", decodeEvent: fn }, "read")).toBe("has no 'decodeBatch' function");
    expect(payloadCodecProblem(decodeOnly)).toBe("has no 'encodeEvent' function");
    expect(payloadCodecProblem({ ...decodeOnly, encodeEvent: fn })).toBe("has no 'encodeBatch' function");
  });

  it("is undefined for a codec that serves the use", () => {
    expect(payloadCodecProblem(decodeOnly, "read")).toBeUndefined();
    expect(payloadCodecProblem(jsonCodec)).toBeUndefined();
    expect(payloadCodecProblem(jsonCodec, "read")).toBeUndefined();
  });
});

describe("checkPayloadCodec", () => {
  it("refuses with WAL_INVALID_OPTION, the methods the use needs, and what is missing", () => {
    expect(() => checkPayloadCodec(decodeOnly)).toThrow(
      expect.objectContaining({
        code: "WAL_INVALID_OPTION",
        message:
          "codec must implement PayloadCodec (name, encodeEvent, encodeBatch, decodeEvent, decodeBatch): it has no 'encodeEvent' function",
      }),
    );
    expect(() => checkPayloadCodec({}, "read")).toThrow(
      "codec must implement PayloadCodec (name, decodeEvent, decodeBatch): it has no string 'name'",
    );
  });

  it("accepts a codec that serves the use", () => {
    expect(() => checkPayloadCodec(decodeOnly, "read")).not.toThrow();
    expect(() => checkPayloadCodec(jsonCodec)).not.toThrow();
  });
});

describe("a codec that throws when read", () => {
  it("is a problem, not a throw: checkPayloadCodec refuses it with WAL_INVALID_OPTION", () => {
    for (const [label, value] of hostileValues(["name", "decodeEvent"])) {
      let error: unknown;
      try {
        checkPayloadCodec(value, "read");
      } catch (e) {
        error = e;
      }
      expect(error, label).toMatchObject({ name: "WalError", code: "WAL_INVALID_OPTION" });
    }
  });
});
