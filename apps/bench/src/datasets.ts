/**
 * The prepared, read-only logs the read workloads share: one written by @lora/wal in the `commitTx` layout, one
 * written by the LoraDB engine. What each holds is stored beside it as `<dataDir>.json`.
 */

import * as fs from "node:fs";
import { mkdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { Wal } from "@lora/wal";
import { bytesCodec } from "@lora/wal-codec";
import { loraCodec } from "@lora/wal-codec/lora";
import { replayDir } from "@lora/wal-replay";
import { makePayload, PAYLOAD_BYTES } from "./payload.js";
import { dirBytes } from "./segment-files.js";

/** What a prepared log holds (stored next to the dataset directory). */
export interface DatasetMeta {
  readonly transactions: number;
  readonly records: number;
  readonly events: number;
  readonly bytes: number;
}

export async function readMeta(dataDir: string): Promise<DatasetMeta> {
  return JSON.parse(await readFile(`${dataDir}.json`, "utf8")) as DatasetMeta;
}

/**
 * A @lora/wal log of at least `bytes` bytes, laid out as `commitTx([event])` writes it (TxBegin, one
 * MutationBatch of one event, TxCommit per transaction) with events of `eventBytes` bytes, written with buffered
 * appends for speed.
 */
export async function prepareWalLog(dataDir: string, bytes: number, eventBytes = PAYLOAD_BYTES): Promise<DatasetMeta> {
  await mkdir(dataDir, { recursive: true });
  const { wal } = await Wal.open(dataDir, { codec: bytesCodec, syncMode: "none" });
  const payload = makePayload(eventBytes);
  const events = [payload];
  const perTx = 25 + (25 + 8 + 8 + eventBytes) + 25;
  const transactions = Math.max(1, Math.ceil(bytes / perTx));
  for (let i = 0; i < transactions; i++) {
    const tx = await wal.begin();
    await wal.appendBatch(tx, events);
    await wal.commit(tx);
    if ((i & 0x3fff) === 0x3fff) await wal.flush();
  }
  await wal.close();
  fs.rmSync(join(dataDir, ".lora-wal.lock"), { force: true });
  const meta: DatasetMeta = {
    transactions,
    records: transactions * 3,
    events: transactions,
    bytes: await dirBytes(dataDir),
  };
  fs.writeFileSync(`${dataDir}.json`, JSON.stringify(meta));
  return meta;
}

/** A LoraDB-written WAL: `nodes` `:Bench {i, p}` nodes (p a 100-character string), 1000 per transaction. */
export async function prepareLoraEngineLog(dataDir: string, nodes: number): Promise<DatasetMeta> {
  const { openWalDatabase } = await import("@loradb/lora-node");
  const db = await openWalDatabase({ walDir: dataDir });
  const p = "x".repeat(PAYLOAD_BYTES);
  let transactions = 0;
  for (let i = 0; i < nodes; i += 1000) {
    await db.execute("UNWIND range($from, $to) AS i CREATE (:Bench {i: i, p: $p})", {
      from: i,
      to: Math.min(nodes, i + 1000) - 1,
      p,
    });
    transactions++;
  }
  db.dispose();
  let events = 0;
  let records = 0;
  const replay = replayDir(dataDir, { codec: loraCodec });
  for await (const tx of replay) events += tx.events.length;
  records = (await replay.outcome()).records;
  const meta: DatasetMeta = { transactions, records, events, bytes: await dirBytes(dataDir) };
  fs.writeFileSync(`${dataDir}.json`, JSON.stringify(meta));
  return meta;
}
