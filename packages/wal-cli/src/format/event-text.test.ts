import { createPropertyMap, LoraVector } from "@lora/wal-codec/lora";
import { expect, it } from "vitest";
import { eventText, floatText, hexText, loraEventText, TEXT_BYTES_LIMIT } from "./event-text.js";

it("Floats never read as Ints; Ints print every digit", () => {
  expect(floatText(2)).toBe("2.0");
  expect(floatText(-0)).toBe("-0.0");
  expect(floatText(1e300)).toBe("1e+300");
  const properties = createPropertyMap();
  properties.big = 9223372036854775807n;
  properties.f = 2;
  properties.v = new LoraVector(new Int8Array([1, -3]));
  expect(loraEventText({ type: "CreateNode", id: 7n, labels: ["A", "B c"], properties })).toBe(
    "CreateNode #7 (:A:`B c` {big: 9223372036854775807, f: 2.0, v: vector([1, -3], 2, INT8)})",
  );
  expect(loraEventText({ type: "SetNodeProperty", nodeId: 1n, key: "k", value: "x" })).toBe(
    'SetNodeProperty #1.k = "x"',
  );
});

it("raw bytes print as hex, cut after the limit", () => {
  expect(hexText(new Uint8Array([0, 255]))).toBe("0x00ff");
  expect(hexText(new Uint8Array(TEXT_BYTES_LIMIT + 1))).toMatch(/… \(65 bytes\)$/);
  expect(eventText(new Uint8Array([1]), "bytes")).toBe("0x01");
  expect(eventText({ a: [1] }, "json")).toBe('{"a":[1]}');
});
