/**
 * A local S3 server for the CLI's `s3://` tests: s3rver on 127.0.0.1 (a port the OS picks) in a child process,
 * its objects in a fresh temp directory, one bucket created. Started as `@lora/wal-archive`'s tests start it: with
 * `--openssl-legacy-provider`, because s3rver encrypts ListObjectsV2 continuation tokens with DES, which Node's
 * OpenSSL 3 refuses by default. The child exits when its stdin closes, so it cannot outlive the test process.
 */

import { spawn } from "node:child_process";
import { once } from "node:events";
import { createRequire } from "node:module";
import { createInterface } from "node:readline";
import { S3Client } from "@aws-sdk/client-s3";
import { makeTempDir } from "@lora/test-utils";

/** s3rver's only key pair (it does not check signatures). */
export const LOCAL_S3_CREDENTIALS = { accessKeyId: "S3RVER", secretAccessKey: "S3RVER" } as const;

const SERVER = `
const [s3rverPath, directory, bucket] = process.argv.slice(1);
const S3rver = require(s3rverPath);
new S3rver({ address: "127.0.0.1", port: 0, silent: true, directory, configureBuckets: [{ name: bucket }] })
  .run()
  .then(
    (address) => {
      process.stdout.write(address.port + "\\n");
      process.stdin.resume();
      process.stdin.on("end", () => process.exit(0));
    },
    (error) => {
      process.stderr.write(String(error && error.stack) + "\\n");
      process.exit(1);
    },
  );
`;

export interface LocalS3 {
  /** `http://127.0.0.1:<port>`. */
  readonly endpoint: string;
  readonly bucket: string;
  /** A path-style client for it (destroyed by `stop`). */
  readonly client: S3Client;
  /** Stop the server and the client, remove the directory. */
  stop(): Promise<void>;
}

/** Start s3rver with `bucket` created. */
export async function startLocalS3(bucket: string): Promise<LocalS3> {
  const dir = await makeTempDir("lora-wal-cli-s3rver");
  const s3rver = createRequire(import.meta.url).resolve("s3rver");
  const child = spawn(process.execPath, ["--openssl-legacy-provider", "-e", SERVER, s3rver, dir.path, bucket], {
    stdio: ["pipe", "pipe", "inherit"],
  });
  const port = await new Promise<number>((resolve, reject) => {
    const lines = createInterface({ input: child.stdout });
    const onExit = (code: number | null) => reject(new Error(`s3rver exited (code ${String(code)}) before listening`));
    child.once("exit", onExit);
    lines.once("line", (line) => {
      child.off("exit", onExit);
      lines.close();
      child.stdout.resume();
      resolve(Number(line));
    });
  }).catch(async (error: unknown) => {
    child.kill();
    await dir.cleanup();
    throw error;
  });
  const endpoint = `http://127.0.0.1:${port}`;
  const client = new S3Client({
    endpoint,
    region: "us-east-1",
    forcePathStyle: true,
    credentials: LOCAL_S3_CREDENTIALS,
  });
  return {
    endpoint,
    bucket,
    client,
    async stop() {
      client.destroy();
      const exited = once(child, "exit");
      child.stdin.end();
      await exited;
      await dir.cleanup();
    },
  };
}
