/**
 * The archive store on Amazon S3 or any S3-compatible service, through the AWS SDK for JavaScript v3.
 *
 * Why a subpath (`@lora/wal-archive/s3`) and not the package root: this module imports the SDK's command classes,
 * and `@aws-sdk/client-s3` is an optional peer dependency. Keeping it behind its own entry point means
 * `import "@lora/wal-archive"` (the directory store, the archiver, restore) loads and type-checks without the SDK
 * installed. A dynamic `import()` of the SDK from the root would also spare fsArchive users the load, but the root's
 * declarations would still name `@aws-sdk/client-s3` (a type error in projects without `skipLibCheck` that never
 * installed it), and a missing SDK would surface at the first upload instead of at import.
 *
 * Objects are S3 objects named `<prefix>/<key>`. The store makes one attempt per call: it configures no retries of
 * its own, so only the client's retry strategy (`maxAttempts`, `retryMode`) applies inside a call, and the archiver
 * retries failed calls with backoff.
 *
 * @module @lora/wal-archive/s3
 */

import { Buffer } from "node:buffer";
import {
  AbortMultipartUploadCommand,
  type CompletedPart,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  type GetObjectCommandOutput,
  ListObjectsV2Command,
  type ListObjectsV2CommandOutput,
  PutObjectCommand,
  type S3Client,
  UploadPartCommand,
} from "@aws-sdk/client-s3";
import {
  checkOptionNames,
  crc32,
  optionNames,
  optionOr,
  readCallerValue,
  shownError,
  shownValue,
  WalError,
} from "@lora/wal-codec";
import { assertStoreKey, assertStorePrefix } from "./archive-keys.js";
import {
  type ArchiveCallOptions,
  type ArchiveObjectInfo,
  type ArchivePutOptions,
  type ArchiveStore,
  abortWins,
  checkCallOptions,
  startCall,
} from "./archive-store.js";
import { crc32InSlices } from "./crc32-in-slices.js";
import { sameBytes } from "./same-bytes.js";
import { storeIoError } from "./store-io-error.js";

const MiB = 1024 * 1024;
/** S3's smallest part (all but the last part of a multipart upload). */
const MIN_PART_BYTES = 5 * MiB;
/** S3's largest part, and its largest single PUT. */
const MAX_PART_BYTES = 5 * 1024 * MiB;
/** S3's most parts in one multipart upload. */
const MAX_PARTS = 10_000;
const DEFAULT_PART_BYTES = 64 * MiB;
/** S3 returns at most 1000 keys per ListObjectsV2 page. */
const MAX_LIST_PAGE = 1000;

/** Options of {@link s3Archive}. */
export interface S3ArchiveOptions {
  /**
   * The client to send requests with, configured by the caller: region, endpoint (`forcePathStyle: true` for most
   * S3-compatible services), credentials, time-outs and retry strategy. The store never destroys it.
   */
  readonly client: S3Client;
  /** The bucket; it must exist. */
  readonly bucket: string;
  /**
   * Where in the bucket the archive lives: key `k` is stored as `<prefix>/<k>`. Same rules as a key prefix (see
   * {@link ArchiveStore}); a trailing `/` is optional.
   * @default "" (keys at the root of the bucket)
   */
  readonly prefix?: string;
  /**
   * Objects larger than this are uploaded as a multipart upload in parts of this size; smaller ones with one
   * `PutObject`. Between 5 MiB and 5 GiB (S3's part limits).
   * @default 64 MiB
   */
  readonly partSizeBytes?: number;
  /**
   * Keys asked for per `ListObjectsV2` page, 1 to 1000: for services with a smaller page limit, and for tests of
   * pagination.
   * @default 1000
   */
  readonly listPageSize?: number;
  /**
   * Read the key before each upload and settle the put against an existing object (the same bytes succeed without
   * uploading, other bytes are refused). For services that ignore `If-None-Match` (s3rver, some older
   * S3-compatible servers), where only this keeps other bytes from replacing an object; two puts that race can
   * still both write there. Costs a GET per put.
   * @default false (the service enforces `If-None-Match: *`, as S3 has since August 2024)
   */
  readonly checkBeforePut?: boolean;
}

/** Every option `s3Archive` reads; any other name is refused (`WAL_INVALID_OPTION`). */
const S3_ARCHIVE_OPTION_NAMES = optionNames<S3ArchiveOptions>()(
  "client",
  "bucket",
  "prefix",
  "partSizeBytes",
  "listPageSize",
  "checkBeforePut",
);

/**
 * An {@link ArchiveStore} in an S3 bucket (or any S3-compatible service).
 *
 * - `put` verifies `crc32` against the bytes before sending anything, then uploads with the CRC-32 as the
 *   object's checksum (`x-amz-checksum-crc32`), which S3 checks on arrival and refuses on a mismatch. An upload is
 *   atomic: S3 makes an object visible only once all of it has arrived. It is conditional (`If-None-Match: *`), so
 *   an existing object is never replaced: when the service refuses the write (`412`, or `409` for a conditional
 *   write racing another), the store reads the object back and succeeds when it holds the same bytes (a retry
 *   after an uncertain failure), and refuses other bytes with `WAL_INVALID_ARGUMENT`.
 * - A service that ignores `If-None-Match` (s3rver, older S3-compatible servers) replaces the object instead,
 *   unless `checkBeforePut` is set. With the archive's keys a replacement is harmless (a key names its object's
 *   size and CRC-32, so two puts under one key carry the same bytes), but only `checkBeforePut` refuses other
 *   bytes there. A service that answers `501 Not Implemented` to the condition gets the upload again without it,
 *   and this store stops sending it.
 * - Objects above `partSizeBytes` go up as a multipart upload (with a full-object CRC-32 when `crc32` is given);
 *   a failed one is aborted in the background. Add a lifecycle rule that aborts incomplete multipart uploads after
 *   a day, for uploads whose abort never arrived.
 * - `get` returns `null` for a missing key (`NoSuchKey`); a missing bucket is an error.
 * - `list` pages through `ListObjectsV2` and leaves out objects under the prefix whose remaining name is not a
 *   valid store key (folder markers, other tools' files); a key that pages overlapping each other name twice is
 *   listed once.
 *
 * Every call passes `options.signal` to `client.send`; an aborted call rejects with the signal's reason, also when
 * the service's answer failed (or failed the store's checks) before or after the abort.
 *
 * Versions: the peer range is `@aws-sdk/client-s3` `^3.729.0` (conditional writes and full-object checksums).
 * AWS has announced that SDK versions published after the first week of January 2027 require Node.js 22; on
 * Node.js 20, stay on an earlier 3.x (3.1175.0 is the version tested here). That SDK warns about it once per
 * process (`NodeVersionSupportWarning`; `AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED=true` silences it).
 *
 * @example
 * ```ts
 * import { S3Client } from "@aws-sdk/client-s3";
 * import { s3Archive } from "@lora/wal-archive/s3";
 *
 * const store = s3Archive({ client: new S3Client({ region: "eu-west-1" }), bucket: "backups", prefix: "wal/orders" });
 * await store.put("segments/example.wal", bytes, { crc32: checksum });
 * ```
 *
 * @throws {@link @lora/wal-codec!WalError} `WAL_INVALID_OPTION` for options that are not an object (`s3Archive: options
 * must be an object, got null`, as every entry point words it), a missing client, an empty bucket name, an invalid prefix, a
 * part or page size out of range or a non-boolean `checkBeforePut`. The store's calls reject with
 * `WAL_INVALID_OPTION` (options that are not an object, an option name the call does not read), and with
 * `WAL_INVALID_ARGUMENT` (a bad key, prefix, byte array, CRC value or signal; other bytes under an existing key),
 * `WAL_ARCHIVE_CORRUPT` (`crc32` does not match the bytes) and `WAL_IO` (any failure of the SDK or the network;
 * `cause` is the SDK's error), each of these three with `details.object` set to the key or prefix.
 */
export function s3Archive(options: S3ArchiveOptions): ArchiveStore {
  return new S3ArchiveStore(options);
}

class S3ArchiveStore implements ArchiveStore {
  readonly name: string;
  readonly #client: S3Client;
  readonly #bucket: string;
  /** `""` or the prefix with one trailing `/`. */
  readonly #base: string;
  readonly #partBytes: number;
  readonly #pageSize: number;
  readonly #checkFirst: boolean;
  /** Cleared when the service answered `501 Not Implemented` to `If-None-Match`. */
  #conditional = true;

  constructor(given: S3ArchiveOptions) {
    const needsClient = () => new WalError("WAL_INVALID_OPTION", "s3Archive needs client, an S3Client");
    // Options that are not an object are refused there as by every entry point. Each option read once (one that throws when read is refused with a code): what is checked is what is used.
    const options = checkOptionNames(given, S3_ARCHIVE_OPTION_NAMES, "s3Archive");
    const client = options.client as unknown;
    const isClient = readCallerValue(
      () => typeof client === "object" && client !== null && typeof (client as S3Client).send === "function",
      "WAL_INVALID_OPTION",
      "s3Archive: reading client",
      { option: "client" },
    );
    if (!isClient) throw needsClient();
    if (typeof options.bucket !== "string" || options.bucket === "") {
      throw new WalError("WAL_INVALID_OPTION", "s3Archive needs bucket, a non-empty string");
    }
    const prefix = optionOr(options.prefix, "");
    try {
      assertStorePrefix(prefix);
    } catch (e) {
      throw new WalError("WAL_INVALID_OPTION", `s3Archive prefix is invalid: ${shownValue(prefix)}`, { cause: e });
    }
    this.#client = client as S3Client;
    this.#bucket = options.bucket;
    this.#base = prefix === "" || prefix.endsWith("/") ? prefix : `${prefix}/`;
    this.#partBytes = intOption(
      "partSizeBytes",
      options.partSizeBytes,
      DEFAULT_PART_BYTES,
      MIN_PART_BYTES,
      MAX_PART_BYTES,
    );
    this.#pageSize = intOption("listPageSize", options.listPageSize, MAX_LIST_PAGE, 1, MAX_LIST_PAGE);
    if (options.checkBeforePut !== undefined && typeof options.checkBeforePut !== "boolean") {
      throw new WalError("WAL_INVALID_OPTION", "s3Archive checkBeforePut must be a boolean");
    }
    this.#checkFirst = optionOr(options.checkBeforePut, false);
    this.name = `s3://${this.#bucket}/${this.#base.slice(0, -1)}`;
  }

  async put(key: string, bytes: Uint8Array, options: ArchivePutOptions = {}): Promise<void> {
    assertStoreKey(key);
    const read = checkCallOptions(options, "put", `put ${key}`);
    if (!(bytes instanceof Uint8Array)) {
      throw new WalError("WAL_INVALID_ARGUMENT", "put needs the object's bytes as a Uint8Array", {
        details: { object: key },
      });
    }
    const { crc32: expected, signal } = read;
    if (expected !== undefined && (!Number.isInteger(expected) || expected < 0 || expected > 0xffff_ffff)) {
      throw new WalError(
        "WAL_INVALID_ARGUMENT",
        `crc32 must be an unsigned 32-bit integer, got ${shownValue(expected)}`,
        {
          details: { object: key },
        },
      );
    }
    // Arguments first, in the order every store checks them (key, options, bytes, crc32, signal), then the abort.
    startCall(signal, `put ${key}`, key);
    await abortWins(signal, () => this.#put(key, bytes, expected, signal));
  }

  /** `put` once its arguments passed: the checksum, the upload, and settling against an object already there. */
  async #put(
    key: string,
    bytes: Uint8Array,
    expected: number | undefined,
    signal: AbortSignal | undefined,
  ): Promise<void> {
    if (expected !== undefined) {
      // In slices: an 8 MiB segment checked in one call would hold the writer's event loop for milliseconds.
      const actual = await crc32InSlices(bytes);
      if (actual !== expected) {
        throw new WalError(
          "WAL_ARCHIVE_CORRUPT",
          `${this.name}: refusing to put ${key}: its bytes have CRC-32 ${hex(actual)}, the caller said ${hex(expected)}`,
          { details: { object: key } },
        );
      }
    }
    signal?.throwIfAborted();
    const callOptions = signal === undefined ? {} : { signal };
    if (this.#checkFirst) {
      const existing = await this.get(key, callOptions);
      if (existing !== null) return this.#sameOrRefuse(key, existing, bytes);
    }
    const outcome =
      bytes.byteLength > this.#partBytes
        ? await this.#putMultipart(key, bytes, expected, signal)
        : await this.#putSingle(key, bytes, expected, signal);
    if (outcome === "written") return;
    // The service refused to write over an object: settle against what the key holds.
    const existing = await this.get(key, callOptions);
    if (existing === null) {
      // A 409 while the racing write is still in flight (or the object was deleted since): try again later.
      throw this.#ioError("put", key, outcome.refused);
    }
    this.#sameOrRefuse(key, existing, bytes);
  }

  async get(key: string, options: ArchiveCallOptions = {}): Promise<Uint8Array | null> {
    assertStoreKey(key);
    const { signal } = checkCallOptions(options, "get", `get ${key}`);
    startCall(signal, `get ${key}`, key);
    return await abortWins(signal, () => this.#get(key, signal));
  }

  /** `get` once its arguments passed. */
  async #get(key: string, signal: AbortSignal | undefined): Promise<Uint8Array | null> {
    let response: GetObjectCommandOutput;
    try {
      response = await this.#client.send(
        new GetObjectCommand({ Bucket: this.#bucket, Key: this.#base + key }),
        sendOptions(signal),
      );
    } catch (e) {
      signal?.throwIfAborted();
      if (isNoSuchKey(e)) return null;
      throw this.#ioError("get", key, e);
    }
    let bytes: Uint8Array;
    try {
      if (response.Body === undefined) throw new Error("the response has no body");
      bytes = await response.Body.transformToByteArray();
    } catch (e) {
      signal?.throwIfAborted();
      throw this.#ioError("get", key, e);
    }
    // A connection that closes early can end a body without an error; the length the service promised says so.
    if (response.ContentLength !== undefined && bytes.byteLength !== response.ContentLength) {
      throw this.#ioError(
        "get",
        key,
        new Error(`the body has ${bytes.byteLength} bytes, the response announced ${response.ContentLength}`),
      );
    }
    return bytes;
  }

  async list(prefix = "", options: ArchiveCallOptions = {}): Promise<ArchiveObjectInfo[]> {
    assertStorePrefix(prefix);
    const { signal } = checkCallOptions(options, "list", `list ${prefix}`);
    startCall(signal, `list ${prefix}`, prefix);
    return await abortWins(signal, () => this.#list(prefix, signal));
  }

  /** `list` once its arguments passed: every page. */
  async #list(prefix: string, signal: AbortSignal | undefined): Promise<ArchiveObjectInfo[]> {
    const found: ArchiveObjectInfo[] = [];
    let token: string | undefined;
    for (;;) {
      const command = new ListObjectsV2Command({
        Bucket: this.#bucket,
        Prefix: this.#base + prefix,
        MaxKeys: this.#pageSize,
        ...(token === undefined ? {} : { ContinuationToken: token }),
      });
      let page: ListObjectsV2CommandOutput;
      try {
        page = await this.#client.send(command, sendOptions(signal));
      } catch (e) {
        signal?.throwIfAborted();
        throw this.#ioError("list", prefix, e);
      }
      for (const object of page.Contents ?? []) {
        const key = object.Key?.startsWith(this.#base) ? object.Key.slice(this.#base.length) : undefined;
        if (key === undefined || !isStoreKey(key)) continue;
        if (typeof object.Size !== "number") {
          throw this.#ioError("list", prefix, new Error(`the listing gives no size for ${object.Key}`));
        }
        found.push({ key, size: object.Size });
      }
      if (page.IsTruncated !== true) break;
      const next = page.NextContinuationToken;
      // A truncated page must say where to go on; the same token again would loop forever.
      if (next === undefined || next === "" || next === token) {
        throw this.#ioError("list", prefix, new Error("a truncated listing without a new continuation token"));
      }
      token = next;
    }
    found.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    // Each key once: some S3-compatible services start a page at the previous page's last key, and an object named
    // twice reads as two objects (two sealed objects of one segment make restore refuse a sound archive).
    return found.filter((o, i) => i === 0 || o.key !== (found[i - 1] as ArchiveObjectInfo).key);
  }

  async delete(key: string, options: ArchiveCallOptions = {}): Promise<void> {
    assertStoreKey(key);
    const { signal } = checkCallOptions(options, "delete", `delete ${key}`);
    startCall(signal, `delete ${key}`, key);
    await abortWins(signal, () => this.#delete(key, signal));
  }

  /** `delete` once its arguments passed. */
  async #delete(key: string, signal: AbortSignal | undefined): Promise<void> {
    try {
      await this.#client.send(
        new DeleteObjectCommand({ Bucket: this.#bucket, Key: this.#base + key }),
        sendOptions(signal),
      );
    } catch (e) {
      signal?.throwIfAborted();
      // S3 answers 204 for an absent key; a service that says NoSuchKey instead means the same.
      if (isNoSuchKey(e)) return;
      throw this.#ioError("delete", key, e);
    }
  }

  /** One PutObject. */
  async #putSingle(
    key: string,
    bytes: Uint8Array,
    crc: number | undefined,
    signal: AbortSignal | undefined,
  ): Promise<PutOutcome> {
    try {
      return await this.#conditionally(signal, (condition) =>
        this.#client.send(
          new PutObjectCommand({
            Bucket: this.#bucket,
            Key: this.#base + key,
            Body: bytes,
            ContentLength: bytes.byteLength,
            ...(crc === undefined ? {} : { ChecksumAlgorithm: "CRC32", ChecksumCRC32: crc32Base64(crc) }),
            ...condition,
          }),
          sendOptions(signal),
        ),
      );
    } catch (e) {
      signal?.throwIfAborted();
      throw this.#ioError("put", key, e);
    }
  }

  /** A multipart upload in parts of `partSizeBytes`. */
  async #putMultipart(
    key: string,
    bytes: Uint8Array,
    crc: number | undefined,
    signal: AbortSignal | undefined,
  ): Promise<PutOutcome> {
    const partCount = Math.ceil(bytes.byteLength / this.#partBytes);
    if (partCount > MAX_PARTS) {
      throw new WalError(
        "WAL_INVALID_ARGUMENT",
        `${key} (${bytes.byteLength} bytes) needs more than ${MAX_PARTS} parts of ${this.#partBytes} bytes`,
        { details: { object: key } },
      );
    }
    const Bucket = this.#bucket;
    const Key = this.#base + key;
    let uploadId: string | undefined;
    try {
      const created = await this.#client.send(
        new CreateMultipartUploadCommand({
          Bucket,
          Key,
          ...(crc === undefined ? {} : { ChecksumAlgorithm: "CRC32", ChecksumType: "FULL_OBJECT" }),
        }),
        sendOptions(signal),
      );
      uploadId = created.UploadId;
      if (uploadId === undefined) throw new Error("CreateMultipartUpload returned no upload id");
      const parts: CompletedPart[] = [];
      for (let n = 1; n <= partCount; n++) {
        const part = bytes.subarray((n - 1) * this.#partBytes, Math.min(n * this.#partBytes, bytes.byteLength));
        const partCrc = crc === undefined ? undefined : crc32Base64(crc32(part));
        const uploaded = await this.#client.send(
          new UploadPartCommand({
            Bucket,
            Key,
            UploadId: uploadId,
            PartNumber: n,
            Body: part,
            ContentLength: part.byteLength,
            ...(partCrc === undefined ? {} : { ChecksumAlgorithm: "CRC32", ChecksumCRC32: partCrc }),
          }),
          sendOptions(signal),
        );
        if (uploaded.ETag === undefined) throw new Error(`UploadPart ${n} returned no ETag`);
        parts.push({
          PartNumber: n,
          ETag: uploaded.ETag,
          ...(partCrc === undefined ? {} : { ChecksumCRC32: partCrc }),
        });
      }
      const outcome = await this.#conditionally(signal, (condition) =>
        this.#client.send(
          new CompleteMultipartUploadCommand({
            Bucket,
            Key,
            UploadId: uploadId,
            MultipartUpload: { Parts: parts },
            ...(crc === undefined ? {} : { ChecksumCRC32: crc32Base64(crc), ChecksumType: "FULL_OBJECT" }),
            ...condition,
          }),
          sendOptions(signal),
        ),
      );
      if (outcome !== "written") this.#abandonUpload(Key, uploadId);
      return outcome;
    } catch (e) {
      if (uploadId !== undefined) this.#abandonUpload(Key, uploadId);
      signal?.throwIfAborted();
      throw this.#ioError("put", key, e);
    }
  }

  /**
   * Send a write with `If-None-Match: *` (unless the service has refused that condition), and say whether the
   * service refused it because of the key's object: `412 Precondition Failed`, or `409` for a conditional write that
   * raced another. A `501 Not Implemented` means the service does not support the condition: the write goes again
   * without it, and so do all later ones.
   */
  async #conditionally(
    signal: AbortSignal | undefined,
    send: (condition: { IfNoneMatch?: string }) => Promise<unknown>,
  ): Promise<PutOutcome> {
    for (;;) {
      const conditional = this.#conditional;
      try {
        await send(conditional ? { IfNoneMatch: "*" } : {});
        return "written";
      } catch (e) {
        signal?.throwIfAborted();
        const status = httpStatus(e);
        if (conditional && (status === 412 || status === 409)) return { refused: e };
        if (!conditional || status !== 501) throw e;
        this.#conditional = false;
      }
    }
  }

  /**
   * Abort a multipart upload that will not be completed, without waiting: the put has failed already, and an
   * abort that cannot get through (the network is what failed) must not hold up its rejection.
   */
  #abandonUpload(Key: string, UploadId: string): void {
    this.#client.send(new AbortMultipartUploadCommand({ Bucket: this.#bucket, Key, UploadId })).catch(() => {
      // Left to the bucket's lifecycle rule for incomplete multipart uploads.
    });
  }

  /** A put of the bytes the key holds succeeds (a retry: objects are immutable); other bytes are refused. */
  #sameOrRefuse(key: string, existing: Uint8Array, bytes: Uint8Array): void {
    if (sameBytes(existing, bytes)) return;
    throw new WalError(
      "WAL_INVALID_ARGUMENT",
      `${this.name}: ${key} already holds other bytes (${existing.byteLength} bytes, CRC-32 ${hex(crc32(existing))}) ` +
        `than this put (${bytes.byteLength} bytes, CRC-32 ${hex(crc32(bytes))}); archived objects are immutable`,
      { details: { object: key } },
    );
  }

  /** What the client threw as `WAL_IO` naming the key or prefix, described with the SDK's name, code and status. */
  #ioError(op: string, object: string, cause: unknown): WalError {
    if (cause instanceof WalError) return cause; // our own refusals, raised inside the call
    return storeIoError(this.name, op, object, cause, describe(cause));
  }
}

/** A write's result: done, or refused by the service because the key holds an object (the refusal as `refused`). */
type PutOutcome = "written" | { readonly refused: unknown };

function intOption(name: string, value: number | undefined, fallback: number, min: number, max: number): number {
  if (value === undefined) return fallback;
  if (!Number.isSafeInteger(value) || value < min || value > max) {
    throw new WalError(
      "WAL_INVALID_OPTION",
      `s3Archive ${name} must be an integer from ${min} to ${max}, got ${value}`,
    );
  }
  return value;
}

function sendOptions(signal: AbortSignal | undefined): { abortSignal?: AbortSignal } {
  return signal === undefined ? {} : { abortSignal: signal };
}

/** `x-amz-checksum-crc32`: the base64 of the CRC-32's four bytes, big-endian. */
function crc32Base64(crc: number): string {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(crc >>> 0);
  return b.toString("base64");
}

const hex = (crc: number) => (crc >>> 0).toString(16).padStart(8, "0");

function isStoreKey(key: string): boolean {
  try {
    assertStoreKey(key);
    return true;
  } catch {
    return false;
  }
}

/** What an SDK error carries besides `message`. */
interface SdkErrorFields {
  readonly name?: unknown;
  readonly code?: unknown;
  readonly $metadata?: { readonly httpStatusCode?: unknown };
}

function httpStatus(e: unknown): number | undefined {
  const status = typeof e === "object" && e !== null ? (e as SdkErrorFields).$metadata?.httpStatusCode : undefined;
  return typeof status === "number" ? status : undefined;
}

/** The key is absent: S3's `NoSuchKey`, or a bare 404 from a service without an error body (not a missing bucket). */
function isNoSuchKey(e: unknown): boolean {
  const name = typeof e === "object" && e !== null ? (e as SdkErrorFields).name : undefined;
  return name === "NoSuchKey" || (httpStatus(e) === 404 && name !== "NoSuchBucket");
}

/** What the client threw, for a message: it may throw anything, so a value that is not an `Error` is shown safely. */
function describe(e: unknown): string {
  if (!(e instanceof Error)) return shownError(e);
  const fields = e as Error & SdkErrorFields;
  const status = httpStatus(e);
  const code = typeof fields.code === "string" ? ` ${fields.code}` : "";
  return `${e.name}${code}${status === undefined ? "" : ` (HTTP ${status})`}: ${e.message}`;
}
