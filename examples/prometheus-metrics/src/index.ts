export { type WalMetrics, walMetrics } from "./wal-metrics.js";
