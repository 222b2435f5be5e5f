/**
 * An HTTP proxy on 127.0.0.1 that forwards to a local S3 server and, on request, fails chosen requests the way a
 * network or a service does: an error status, a connection reset in the middle of an upload, a response that stops
 * coming. It records every request it sees, so tests count requests instead of timing them. It can also enforce
 * `If-None-Match: *` on writes, which s3rver ignores, the way S3 does (without S3's atomicity: the check and the
 * write are two requests upstream).
 */

import { once } from "node:events";
import { createServer, type IncomingHttpHeaders, type IncomingMessage, request, type ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";

/** What to do to a request instead of forwarding it intact. */
export type Fault =
  /** Answer with this status and an S3 error body (`code`) without forwarding; the request body is read first. */
  | { readonly kind: "status"; readonly status: number; readonly code?: string }
  /** Forward, and reset the client's connection (TCP RST) once this many request-body bytes have passed. */
  | { readonly kind: "reset"; readonly afterRequestBytes: number }
  /**
   * Hold the request and never answer; with `afterResponseBytes`, forward it and pass the response head and that
   * many body bytes first. The connection stays open until the client gives up or the proxy closes.
   */
  | { readonly kind: "stall"; readonly afterResponseBytes?: number };

/** A request as the proxy saw it. */
export interface ProxiedRequest {
  readonly method: string;
  /** Path and query, e.g. `/bucket/key?uploadId=…`. */
  readonly url: string;
  readonly headers: IncomingHttpHeaders;
  /** The fault applied to it, if any. */
  readonly fault?: Fault["kind"];
  /** Refused with 412 because of `If-None-Match: *` and an existing object (with `enforceIfNoneMatch`). */
  readonly refusedByCondition?: true;
}

export interface FaultyProxyOptions {
  /**
   * Answer a PutObject or CompleteMultipartUpload carrying `If-None-Match: *` with `412 PreconditionFailed` when
   * the object exists upstream, as S3 does. @default false (pass the header on; s3rver ignores it)
   */
  readonly enforceIfNoneMatch?: boolean;
}

/** Which requests a fault applies to, and how many of them. */
export interface InjectOptions {
  /** How many matching requests get the fault. @default 1 */
  readonly times?: number;
  /** Only requests this accepts. @default every request */
  readonly match?: (req: { readonly method: string; readonly url: string }) => boolean;
}

export interface FaultyProxy {
  /** `http://127.0.0.1:<port>`. */
  readonly endpoint: string;
  /** Every request so far, in arrival order. */
  readonly requests: readonly ProxiedRequest[];
  /**
   * Give the next `times` matching requests `fault`. `applied` resolves once the last of them has been dealt with
   * (answered, reset, or stalled after its bytes were passed on).
   */
  inject(fault: Fault, options?: InjectOptions): { readonly applied: Promise<void> };
  /** Drop every pending fault and the request log. */
  reset(): void;
  /** Stop listening and destroy every connection, stalled ones included. */
  close(): Promise<void>;
}

interface PendingFault {
  readonly fault: Fault;
  readonly match: NonNullable<InjectOptions["match"]>;
  remaining: number;
  readonly done: () => void;
}

const ERROR_CODES: Record<number, string> = {
  409: "ConditionalRequestConflict",
  412: "PreconditionFailed",
  500: "InternalError",
  501: "NotImplemented",
  503: "ServiceUnavailable",
};

/** Start a proxy in front of `upstream` (`http://127.0.0.1:<port>`). */
export async function startFaultyProxy(upstream: string, options: FaultyProxyOptions = {}): Promise<FaultyProxy> {
  const target = new URL(upstream);
  const requests: ProxiedRequest[] = [];
  let pending: PendingFault[] = [];
  const sockets = new Set<Socket>();
  /** Per object path, the conditional write in progress: the check and the write of one key happen one at a time. */
  const keyLocks = new Map<string, Promise<void>>();

  const takeFault = (req: IncomingMessage): PendingFault | undefined => {
    const method = req.method ?? "GET";
    const url = req.url ?? "/";
    const found = pending.find((p) => p.remaining > 0 && p.match({ method, url }));
    if (found === undefined) return undefined;
    found.remaining--;
    if (found.remaining === 0) pending = pending.filter((p) => p !== found);
    return found;
  };

  const server = createServer((req, res) => {
    const taken = takeFault(req);
    const record = {
      method: req.method ?? "GET",
      url: req.url ?? "/",
      headers: req.headers,
      ...(taken === undefined ? {} : { fault: taken.fault.kind }),
    };
    if (taken === undefined && options.enforceIfNoneMatch === true && isConditionalWrite(req)) {
      const path = (req.url ?? "/").split("?")[0] ?? "/";
      const previous = keyLocks.get(path) ?? Promise.resolve();
      const turn = previous.then(async () => {
        let exists: boolean;
        try {
          exists = await objectExists(req, target, path);
        } catch {
          requests.push(record);
          req.resume();
          res.writeHead(502).end();
          return;
        }
        requests.push(exists ? { ...record, refusedByCondition: true } : record);
        if (exists) answerWithError(req, res, 412, undefined, () => {});
        else forward(req, res, target);
        await once(res, "close");
      });
      keyLocks.set(path, turn);
      void turn.finally(() => {
        if (keyLocks.get(path) === turn) keyLocks.delete(path);
      });
      return;
    }
    requests.push(record);
    // The fault's promise settles when the last request it takes has been dealt with.
    const done = taken !== undefined && taken.remaining === 0 ? taken.done : () => {};
    const fault = taken?.fault;
    if (fault === undefined) {
      forward(req, res, target);
    } else if (fault.kind === "status") {
      answerWithError(req, res, fault.status, fault.code, done);
    } else if (fault.kind === "reset") {
      resetMidUpload(req, res, target, fault.afterRequestBytes, done);
    } else if (fault.afterResponseBytes === undefined) {
      req.resume();
      done();
    } else {
      stallMidResponse(req, res, target, fault.afterResponseBytes, done);
    }
  });
  // Keep-alive connections outlive a test's pauses; close() destroys them.
  server.keepAliveTimeout = 60_000;
  server.on("connection", (socket: Socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const { port } = server.address() as AddressInfo;

  return {
    endpoint: `http://127.0.0.1:${port}`,
    requests,
    inject(fault, options = {}) {
      let done!: () => void;
      const applied = new Promise<void>((resolve) => {
        done = resolve;
      });
      pending.push({ fault, match: options.match ?? (() => true), remaining: options.times ?? 1, done });
      return { applied };
    },
    reset() {
      pending = [];
      requests.length = 0;
    },
    async close() {
      const closed = once(server, "close");
      server.close();
      for (const socket of sockets) socket.destroy();
      await closed;
    },
  };
}

/** A PutObject (not a part) or a CompleteMultipartUpload with `If-None-Match: *`. */
function isConditionalWrite(req: IncomingMessage): boolean {
  if (req.headers["if-none-match"] !== "*") return false;
  const query = new URL(req.url ?? "/", "http://proxy").searchParams;
  if (req.method === "PUT") return !query.has("partNumber") && !query.has("uploadId");
  return req.method === "POST" && query.has("uploadId");
}

/** HEAD the request's object upstream, with the request's credentials (s3rver checks the key id, not SigV4). */
function objectExists(req: IncomingMessage, target: URL, path: string): Promise<boolean> {
  const headers: Record<string, string> = {};
  for (const name of ["host", "authorization", "x-amz-date", "x-amz-content-sha256"]) {
    const value = req.headers[name];
    if (typeof value === "string") headers[name] = value;
  }
  return new Promise((resolve, reject) => {
    const head = request({ host: target.hostname, port: target.port, method: "HEAD", path, headers }, (res) => {
      res.resume();
      if (res.statusCode === 200) resolve(true);
      else if (res.statusCode === 404) resolve(false);
      else reject(new Error(`HEAD ${path}: ${String(res.statusCode)}`));
    });
    head.on("error", reject);
    head.end();
  });
}

/**
 * The request passed on upstream (the Host header as the client signed it). When the client's side closes first
 * (a reset, an abort, the proxy closing), the upstream request is dropped too, so the server is not left waiting.
 */
function upstreamRequest(req: IncomingMessage, res: ServerResponse, target: URL) {
  const up = request({
    host: target.hostname,
    port: target.port,
    method: req.method,
    path: req.url,
    headers: req.headers,
  });
  res.on("close", () => {
    if (!res.writableFinished) up.destroy();
  });
  return up;
}

function forward(req: IncomingMessage, res: ServerResponse, target: URL): void {
  const up = upstreamRequest(req, res, target);
  up.on("response", (upRes) => {
    res.writeHead(upRes.statusCode ?? 502, upRes.headers);
    upRes.pipe(res);
  });
  up.on("error", () => {
    if (!res.headersSent) res.writeHead(502).end();
    else res.destroy();
  });
  req.pipe(up);
}

function answerWithError(
  req: IncomingMessage,
  res: ServerResponse,
  status: number,
  code: string | undefined,
  done: () => void,
): void {
  const name = code ?? ERROR_CODES[status] ?? "InternalError";
  const body =
    req.method === "HEAD"
      ? ""
      : `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${name}</Code><Message>injected by the test proxy</Message>` +
        "<RequestId>faulty-proxy</RequestId></Error>";
  // Read the whole request first: closing on an unread body would reset the connection instead of answering.
  req.resume();
  req.on("end", () => {
    res.writeHead(status, { "content-type": "application/xml", "content-length": Buffer.byteLength(body) });
    res.end(body, done);
  });
}

function resetMidUpload(
  req: IncomingMessage,
  res: ServerResponse,
  target: URL,
  afterBytes: number,
  done: () => void,
): void {
  const up = upstreamRequest(req, res, target);
  up.on("error", () => {});
  let passed = 0;
  let reset = false;
  const cut = () => {
    if (reset) return;
    reset = true;
    req.unpipe(up);
    up.destroy();
    req.socket.resetAndDestroy();
    done();
  };
  req.on("data", (chunk: Buffer) => {
    if (reset) return;
    const room = afterBytes - passed;
    if (chunk.byteLength >= room) {
      if (room > 0) up.write(chunk.subarray(0, room));
      passed += room;
      cut();
    } else {
      up.write(chunk);
      passed += chunk.byteLength;
    }
  });
  // A body shorter than the threshold: reset once it has all arrived, before any answer.
  req.on("end", cut);
  up.on("response", () => cut());
  if (afterBytes === 0) cut();
  res.on("error", () => {});
}

function stallMidResponse(
  req: IncomingMessage,
  res: ServerResponse,
  target: URL,
  afterBytes: number,
  done: () => void,
): void {
  const up = upstreamRequest(req, res, target);
  up.on("error", () => {});
  res.on("error", () => {});
  up.on("response", (upRes) => {
    res.writeHead(upRes.statusCode ?? 502, upRes.headers);
    let passed = 0;
    let stalled = false;
    const stall = () => {
      if (stalled) return;
      stalled = true;
      upRes.pause();
      // The head and the bytes so far reach the client; then nothing more.
      res.flushHeaders();
      done();
    };
    upRes.on("data", (chunk: Buffer) => {
      if (stalled) return;
      const room = afterBytes - passed;
      if (chunk.byteLength >= room) {
        if (room > 0) res.write(chunk.subarray(0, room));
        passed += room;
        stall();
      } else {
        res.write(chunk);
        passed += chunk.byteLength;
      }
    });
    upRes.on("end", stall);
    if (afterBytes === 0) stall();
  });
  req.pipe(up);
}
