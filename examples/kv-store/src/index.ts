export { type KvEvent, KvStore, type KvStoreOptions, SNAPSHOT_FILE } from "./kv-store.js";
