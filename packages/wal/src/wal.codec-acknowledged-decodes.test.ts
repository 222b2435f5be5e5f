/**
 * What a codec accepts, its decoder reads back: a commit `commitTx` acknowledges never leaves a log that fails to
 * open. Each case here was once written, acknowledged, and then refused by the codec's own decoder at the next open
 * (`WAL_CORRUPT`). Either outcome is fine for these odd events, refused (`WAL_ENCODE`, nothing written) or
 * acknowledged, as long as the log opens with exactly what was acknowledged.
 */

import { bytesCodec, type JsonValue, jsonCodec, type PayloadCodec, WalError } from "@lora/wal-codec";
import {
  createPropertyMap,
  type IndexConfigMap,
  LoraBinary,
  LoraVector,
  loraCodec,
  type MutationEvent,
  type PropertyTypeTerm,
} from "@lora/wal-codec/lora";
import { SimFS } from "@lora/wal-segment/testing";
import { describe, expect, it } from "vitest";
import { Wal } from "./wal.js";

async function commitThenReopen<E>(codec: PayloadCodec<E>, good: E, odd: E[]): Promise<string> {
  const fs = new SimFS();
  const { wal } = await Wal.open<E>("/w", { fs, codec });
  await wal.commitTx([good]);
  const outcome = await wal.commitTx(odd).then(
    () => "acknowledged",
    (e: { code?: string }) => String(e.code),
  );
  await wal.close();
  const { wal: again, events } = await Wal.open<E>("/w", { fs, codec });
  await again.close();
  expect(events).toHaveLength(outcome === "acknowledged" ? 1 + odd.length : 1);
  return outcome;
}

/** `CREATE CONSTRAINT c FOR (n:P) REQUIRE n.<properties> IS :: <alternatives>`. */
function typeConstraint(properties: string[], alternatives: PropertyTypeTerm[]): MutationEvent {
  return {
    type: "CreateConstraint",
    request: { name: "c", kind: "PropertyType", entity: "Node", label: "P", properties, alternatives },
    ifNotExists: false,
  };
}

describe("an acknowledged commit always decodes", () => {
  it("jsonCodec: an events array with a toJSON of its own is written as the array of its events", async () => {
    const events: JsonValue[] & { toJSON?: () => unknown } = ["b", { c: 1 }];
    events.toJSON = () => ({ wrapped: true });
    expect(await commitThenReopen<JsonValue>(jsonCodec, "a", events)).toBe("acknowledged");
  });

  it("jsonCodec: with a toJSON on Array.prototype (as some libraries install), a batch still decodes", async () => {
    const proto = Array.prototype as unknown as { toJSON?: () => unknown };
    proto.toJSON = () => "an array";
    try {
      expect(await commitThenReopen<JsonValue>(jsonCodec, "a", ["b", [1, 2]])).toBe("acknowledged");
    } finally {
      delete proto.toJSON;
    }
  });

  it("bytesCodec: an events array whose iterator yields fewer events than its length", async () => {
    const events = [Uint8Array.of(2), Uint8Array.of(3)];
    Object.defineProperty(events, Symbol.iterator, {
      value: function* () {
        yield events[0];
      },
    });
    expect(await commitThenReopen<Uint8Array>(bytesCodec, Uint8Array.of(1), events)).toBe("acknowledged");
  });

  it("loraCodec: a binary whose segments' iterator yields fewer segments than their length", async () => {
    const segments = [Uint8Array.of(1), Uint8Array.of(2)];
    Object.defineProperty(segments, Symbol.iterator, {
      value: function* () {
        yield segments[0];
      },
    });
    const odd: MutationEvent = { type: "SetNodeProperty", nodeId: 1n, key: "b", value: new LoraBinary(segments) };
    expect(await commitThenReopen<MutationEvent>(loraCodec, { type: "DeleteNode", nodeId: 1n }, [odd])).toBe(
      "acknowledged",
    );
  });

  it("loraCodec: index and constraint requests whose arrays' iterators yield another count than their length", async () => {
    /** `items`, but iterated as `yielded`. */
    const iteratedAs = <T>(items: T[], yielded: T[]): T[] => {
      const array = [...items];
      Object.defineProperty(array, Symbol.iterator, {
        value: function* () {
          yield* yielded;
        },
      });
      return array;
    };
    const options = createPropertyMap() as Record<string, unknown>;
    options.list = iteratedAs([1n, 2n], [1n]);
    const index = (properties: string[], additionalLabels: string[], opts: object): MutationEvent => ({
      type: "CreateIndex",
      request: {
        explicitName: "i",
        kind: "Range",
        entity: "Node",
        label: "P",
        additionalLabels,
        properties,
        options: opts as IndexConfigMap,
      },
      ifNotExists: false,
    });
    const odd: MutationEvent[][] = [
      [index(iteratedAs(["a"], ["a", "b"]), [], createPropertyMap())],
      [index(["a"], iteratedAs(["Q", "R"], []), createPropertyMap())],
      [index(["a"], [], options)],
      [typeConstraint(iteratedAs(["a"], []), iteratedAs([{ type: "Scalar", scalar: "Integer" }], []))],
    ];
    for (const events of odd) {
      expect(await commitThenReopen<MutationEvent>(loraCodec, { type: "DeleteNode", nodeId: 1n }, events)).toBe(
        "acknowledged",
      );
    }
  });

  it("loraCodec: a property-type constraint nesting lists as deep as the encoder allows is acknowledged and reopens", async () => {
    // `IS :: LIST<LIST<… INTEGER NOT NULL …> NOT NULL>`, as LoraDB itself logs it: each List term is 2 bytes on the
    // wire and a 48-byte object decoded, so about 50 levels used to pass the decoder's heap budget.
    const constraint = (depth: number): MutationEvent => {
      let term: PropertyTypeTerm = { type: "Scalar", scalar: "Integer" };
      for (let i = 0; i < depth; i++) term = { type: "List", inner: term, notNull: true };
      return typeConstraint(["x"], [term]);
    };
    const good: MutationEvent = { type: "DeleteNode", nodeId: 1n };
    for (const depth of [60, 511]) {
      expect(await commitThenReopen<MutationEvent>(loraCodec, good, [constraint(depth)]), `${depth}`).toBe(
        "acknowledged",
      );
      expect(await commitThenReopen<MutationEvent>(loraCodec, good, [good, constraint(depth)]), `${depth}`).toBe(
        "acknowledged",
      );
    }
  });

  it("loraCodec: a vector whose dimension is not its number of values is refused", async () => {
    const odd: MutationEvent = {
      type: "SetNodeProperty",
      nodeId: 1n,
      key: "v",
      value: new LoraVector(new Float64Array(2), 3),
    };
    expect(await commitThenReopen<MutationEvent>(loraCodec, { type: "DeleteNode", nodeId: 1n }, [odd])).toBe(
      "WAL_ENCODE",
    );
  });
});

describe("a codec's own error", () => {
  it("reaches the caller as WAL_ENCODE whatever its code, with the handle healthy and nothing written", async () => {
    const picky: PayloadCodec<JsonValue> = {
      ...jsonCodec,
      name: "picky",
      encodeBatch(events, out) {
        if (events.includes("bad")) throw new WalError("WAL_IO", "the codec author reused a code");
        jsonCodec.encodeBatch(events, out);
      },
    };
    const { wal } = await Wal.open<JsonValue>("/w", { fs: new SimFS(), codec: picky });
    const next = wal.nextLsn();
    await expect(wal.commitTx(["bad"])).rejects.toMatchObject({
      code: "WAL_ENCODE",
      cause: expect.objectContaining({ code: "WAL_IO" }),
    });
    expect(wal.failure()).toBeNull();
    expect(wal.nextLsn()).toBe(next);
    expect(await wal.commitTx(["good"])).not.toBeNull();
    await wal.close();
  });

  it("refuses the commit before the rotation a full segment is due for: no segment is sealed or created", async () => {
    const picky: PayloadCodec<JsonValue> = {
      ...jsonCodec,
      name: "picky",
      encodeBatch(events, out) {
        if (events.includes("bad")) throw new Error("not this one");
        jsonCodec.encodeBatch(events, out);
      },
    };
    const { wal } = await Wal.open<JsonValue>("/w", { fs: new SimFS(), codec: picky, segmentTargetBytes: 64 });
    await wal.commitTx(["fills the segment"]);
    const before = await wal.segments();
    expect(before).toHaveLength(1);
    await expect(wal.commitTx(["bad"])).rejects.toMatchObject({ code: "WAL_ENCODE" });
    expect(wal.activeSegmentId()).toBe(before[0]?.id);
    expect(await wal.segments()).toEqual(before);
    expect(wal.failure()).toBeNull();
    await wal.close();
  });
});
