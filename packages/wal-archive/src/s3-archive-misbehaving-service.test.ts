/**
 * What `s3Archive` makes of answers a sound service never gives but a broken or S3-compatible one may: each is a
 * `WAL_IO` naming the call (never a shorter body or listing taken as the truth, never a listing that pages forever),
 * and a delete answered `NoSuchKey` is the absent key it means. Driven through a client whose `send` answers from a
 * script, one answer per request, so every case is exact.
 */

import {
  AbortMultipartUploadCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  type S3Client,
  UploadPartCommand,
} from "@aws-sdk/client-s3";
import { isWalError } from "@lora/wal-codec";
import { describe, expect, it } from "vitest";
import { s3Archive } from "./s3-archive.js";

/** A client answering each request with the next of `answers` (a value to resolve, or an Error to throw). */
function scripted(answers: unknown[], partSizeBytes?: number) {
  const sent: unknown[] = [];
  const client = {
    send(command: unknown) {
      sent.push(command);
      if (answers.length === 0) return Promise.reject(new Error("no answer scripted for this request"));
      const next = answers.shift();
      return next instanceof Error ? Promise.reject(next) : Promise.resolve(next);
    },
  };
  const options = { client: client as unknown as S3Client, bucket: "b", prefix: "p" };
  return { store: s3Archive(partSizeBytes === undefined ? options : { ...options, partSizeBytes }), sent };
}

const body = (bytes: number[]) => ({ transformToByteArray: () => Promise.resolve(new Uint8Array(bytes)) });

async function ioError(p: Promise<unknown>, op: string, why: string): Promise<void> {
  const error = await p.then(
    () => expect.unreachable("the call resolved"),
    (e: unknown) => e,
  );
  expect(isWalError(error, "WAL_IO")).toBe(true);
  expect((error as Error).message).toContain(op);
  expect((error as Error).message).toContain(why);
}

describe("s3Archive, a service answering what S3 never would", () => {
  it("get: a response without a body, or a body shorter than its announced length, is WAL_IO", async () => {
    const { store, sent } = scripted([{}, { Body: body([1, 2]), ContentLength: 3 }, { Body: body([1, 2, 3]) }]);
    await ioError(store.get("k"), "get", "the response has no body");
    await ioError(store.get("k"), "get", "the body has 2 bytes, the response announced 3");
    // Without an announced length, the body is what there is.
    expect(await store.get("k")).toEqual(new Uint8Array([1, 2, 3]));
    expect(sent.every((c) => c instanceof GetObjectCommand)).toBe(true);
  });

  it("list: an object without a size is WAL_IO", async () => {
    const { store } = scripted([{ Contents: [{ Key: "p/a", Size: 1 }, { Key: "p/b" }], IsTruncated: false }]);
    await ioError(store.list(), "list", "the listing gives no size for p/b");
  });

  it("list: a truncated page without a new continuation token is WAL_IO after that page, not a loop", async () => {
    for (const token of [undefined, "", "t1"]) {
      const { store, sent } = scripted([
        { Contents: [{ Key: "p/a", Size: 1 }], IsTruncated: true, NextContinuationToken: "t1" },
        { Contents: [{ Key: "p/b", Size: 1 }], IsTruncated: true, NextContinuationToken: token },
      ]);
      await ioError(store.list(), "list", "a truncated listing without a new continuation token");
      expect(sent).toHaveLength(2);
      expect(sent.every((c) => c instanceof ListObjectsV2Command)).toBe(true);
    }
  });

  it("delete: NoSuchKey is an absent key (resolves); another error is WAL_IO", async () => {
    const noSuchKey = Object.assign(new Error("gone"), { name: "NoSuchKey" });
    const denied = Object.assign(new Error("denied"), { name: "AccessDenied", $metadata: { httpStatusCode: 403 } });
    const { store, sent } = scripted([noSuchKey, denied]);
    await store.delete("k");
    await ioError(store.delete("k"), "delete", "denied");
    expect(sent.every((c) => c instanceof DeleteObjectCommand)).toBe(true);
  });

  it("a multipart upload: no upload id, or a part without an ETag, is WAL_IO; a started upload is abandoned", async () => {
    const PART = 5 * 1024 * 1024; // the smallest part S3 takes
    const bytes = new Uint8Array(PART + 1);
    const noId = scripted([{}], PART);
    await ioError(noId.store.put("k", bytes), "put", "CreateMultipartUpload returned no upload id");
    expect(noId.sent.map((c) => c?.constructor)).toEqual([CreateMultipartUploadCommand]);

    const noTag = scripted([{ UploadId: "u1" }, {}], PART);
    await ioError(noTag.store.put("k", bytes), "put", "UploadPart 1 returned no ETag");
    expect(noTag.sent.map((c) => c?.constructor)).toEqual([
      CreateMultipartUploadCommand,
      UploadPartCommand,
      AbortMultipartUploadCommand,
    ]);
    expect((noTag.sent[2] as AbortMultipartUploadCommand).input).toEqual({ Bucket: "b", Key: "p/k", UploadId: "u1" });
  });
});
