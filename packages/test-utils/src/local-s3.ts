/**
 * A local S3 server for tests: s3rver on 127.0.0.1 with a port the OS picks, keeping its objects in a fresh temp
 * directory, with one bucket created. It speaks the S3 REST API to the real AWS SDK client, but it does not check
 * `x-amz-checksum-*` headers and ignores `If-None-Match` on writes (tests that need those inject them through the
 * faulty proxy).
 *
 * The server runs in a child process started with `--openssl-legacy-provider`: s3rver encrypts ListObjectsV2
 * continuation tokens with DES, which Node's OpenSSL 3 refuses by default, so without the flag every truncated
 * listing fails with a 500. The child exits when its stdin closes, so it cannot outlive the test process.
 *
 * Imported from `@lora/test-utils/local-s3`, not the package root, so that tests without S3 do not load the SDK.
 */

import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { createRequire } from "node:module";
import { createInterface } from "node:readline";
import { S3Client } from "@aws-sdk/client-s3";
import { makeTempDir } from "./temp-dir.js";

/** s3rver accepts this key pair only (it does not check SigV4 signatures). */
export const LOCAL_S3_CREDENTIALS = { accessKeyId: "S3RVER", secretAccessKey: "S3RVER" } as const;

/**
 * Runs in the child: start s3rver, print its port, stop when stdin ends. S3 stores an object only once its whole
 * body has arrived, and a put is answered once the object is stored. s3rver streams the body into the object's file
 * as it comes, so a client killed mid-upload (the SIGKILL tests) left a short or empty object behind; and it answers
 * the put once the body is read, not once the file is written, so a GET right after could read it half written (seen
 * on a loaded machine: 4 of 5 MiB). The child stores request bodies itself: the whole body, or nothing for one cut
 * short, written to a temporary file renamed into place before the put is answered.
 */
const SERVER_SCRIPT = `
const [s3rverPath, directory, bucket] = process.argv.slice(1);
const path = require("path");
const fsp = require("fs/promises");
const crypto = require("crypto");
const S3rver = require(s3rverPath);
const Store = require(path.join(path.dirname(s3rverPath), "stores", "filesystem.js"));
const putObject = Store.prototype.putObject;
function wholeBody(body) {
  const chunks = [];
  return new Promise((resolve, reject) => {
    let ended = false;
    body.on("data", (chunk) => chunks.push(chunk));
    body.on("end", () => {
      ended = true;
      if (body.complete) resolve(Buffer.concat(chunks));
      else reject(new Error("request body cut short"));
    });
    body.on("error", reject);
    body.on("close", () => { if (!ended) reject(new Error("request body cut short")); });
  });
}
let uploads = 0;
Store.prototype.putObject = async function (object) {
  // Request bodies only: a completed multipart upload is stored from its parts' files, already whole.
  if (!(object.content instanceof require("http").IncomingMessage)) return putObject.call(this, object);
  const bytes = await wholeBody(object.content);
  const objectPath = this.getResourcePath(object.bucket, object.key, "object");
  await fsp.mkdir(path.dirname(objectPath), { recursive: true });
  // Not named like an object (those end in "._S3rver_object"), so a listing meanwhile does not see it.
  const temporary = objectPath + ".uploading-" + process.pid + "-" + uploads++;
  await fsp.writeFile(temporary, bytes);
  await fsp.rename(temporary, objectPath);
  const md5 = crypto.createHash("md5").update(bytes).digest("hex");
  await this.putMetadata(object.bucket, object.key, object.metadata, md5);
  return { size: bytes.length, md5 };
};
const server = new S3rver({ address: "127.0.0.1", port: 0, silent: true, directory, configureBuckets: [{ name: bucket }] });
server.run().then(
  (address) => {
    process.stdout.write(JSON.stringify({ port: address.port }) + "\\n");
    process.stdin.resume();
    // Exit at once: a graceful close would wait for connections a test left hanging on purpose.
    process.stdin.on("end", () => process.exit(0));
  },
  (error) => {
    process.stderr.write(String(error && error.stack) + "\\n");
    process.exit(1);
  },
);
`;

export interface LocalS3ClientOptions {
  /** Where the client sends requests, e.g. a faulty proxy in front of the server. @default the server */
  readonly endpoint?: string;
  /** The SDK's attempts per call (its own retry strategy). @default the SDK's default (3) */
  readonly maxAttempts?: number;
}

export interface LocalS3 {
  /** `http://127.0.0.1:<port>`. */
  readonly endpoint: string;
  /** A bucket that exists. */
  readonly bucket: string;
  /** A client for the server with the SDK's defaults. */
  readonly client: S3Client;
  /** Another client (destroyed by `stop`). */
  createClient(options?: LocalS3ClientOptions): S3Client;
  /** Stop the server, destroy the clients, remove the directory. */
  stop(): Promise<void>;
}

/** Start s3rver on 127.0.0.1:0 with `bucket` created. */
export async function startLocalS3(bucket = "wal-archive"): Promise<LocalS3> {
  const dir = await makeTempDir("lora-s3rver");
  const s3rverPath = createRequire(import.meta.url).resolve("s3rver");
  const child = spawn(
    process.execPath,
    ["--openssl-legacy-provider", "-e", SERVER_SCRIPT, s3rverPath, dir.path, bucket],
    { stdio: ["pipe", "pipe", "inherit"] },
  );
  let port: number;
  try {
    port = await readPort(child);
  } catch (e) {
    child.kill();
    await dir.cleanup();
    throw e;
  }
  const endpoint = `http://127.0.0.1:${port}`;
  const clients: S3Client[] = [];
  const createClient = (options: LocalS3ClientOptions = {}) => {
    const client = new S3Client({
      endpoint: options.endpoint ?? endpoint,
      region: "us-east-1",
      forcePathStyle: true,
      credentials: LOCAL_S3_CREDENTIALS,
      ...(options.maxAttempts === undefined ? {} : { maxAttempts: options.maxAttempts }),
    });
    clients.push(client);
    return client;
  };
  return {
    endpoint,
    bucket,
    client: createClient(),
    createClient,
    async stop() {
      for (const client of clients) client.destroy();
      // A child that already exited (it failed) has nothing to wait for.
      if (child.exitCode === null && child.signalCode === null) {
        const exited = once(child, "exit");
        child.stdin?.end();
        await exited;
      }
      await dir.cleanup();
    },
  };
}

/** The port the child prints, or the reason it exited without one. */
function readPort(child: ChildProcess): Promise<number> {
  const stdout = child.stdout;
  if (stdout === null) return Promise.reject(new Error("the s3rver child has no stdout"));
  return new Promise((resolve, reject) => {
    const lines = createInterface({ input: stdout });
    const onExit = (code: number | null) => {
      lines.close();
      reject(new Error(`s3rver exited with code ${String(code)} before listening`));
    };
    child.once("exit", onExit);
    lines.once("line", (text) => {
      child.off("exit", onExit);
      lines.close();
      // Nothing more is expected on stdout; keep draining it so the child can never block on a full pipe.
      stdout.resume();
      try {
        resolve((JSON.parse(text) as { port: number }).port);
      } catch (e) {
        reject(e);
      }
    });
  });
}
