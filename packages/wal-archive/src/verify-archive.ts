/**
 * Reading an archive without writing anything: `listArchive` (its objects grouped per segment, for `archive ls`)
 * and `verifyArchive` (every check `restore` makes, reported instead of thrown, for `archive verify`). The planning
 * and checking steps here are the ones `restore` runs, so a clean report means a restore to the newest LSN succeeds
 * (as long as the archive does not change in between).
 */

import {
  checkOptionNames,
  crc32,
  isWalError,
  optionNames,
  type PayloadCodec,
  WalError,
  type WalErrorCode,
} from "@lora/wal-codec";
import {
  decodeSegmentHeader,
  SEGMENT_HEADER_BYTES,
  type SegmentHeader,
  SegmentReader,
  type WalFile,
  type WalFileSystem,
  withSealedFlag,
} from "@lora/wal-segment";
import { type ArchiveKey, PIECES_PREFIX, parseArchiveKey, SEGMENTS_PREFIX } from "./archive-keys.js";
import {
  type ArchiveCallOptions,
  type ArchiveStore,
  assertSignalOption,
  checkArchiveStore,
  READ_CALLS,
} from "./archive-store.js";
import { CRC_SLICE_BYTES, crc32InSlices } from "./crc32-in-slices.js";
import { emptyArchiveError } from "./empty-archive.js";
import { holdsPiece } from "./holds-piece.js";
import { storeIoError } from "./store-io-error.js";

/** A sealed segment object as listed: what its key says, plus the size the store reports for it. */
export type ArchivedSegmentObject = Extract<ArchiveKey, { kind: "segment" }> & {
  readonly key: string;
  /** The object's size as the store lists it (the key's `size` says what it must be). */
  readonly storedSize: number;
};

/** A piece of an active segment as listed: what its key says, plus the size the store reports for it. */
export type ArchivedPieceObject = Extract<ArchiveKey, { kind: "piece" }> & {
  readonly key: string;
  /** The object's size as the store lists it (`to - from` is what it must be). */
  readonly storedSize: number;
};

/** The archived objects of one segment id. */
export interface ArchivedSegment {
  readonly id: number;
  /** The base LSN the segment's first object names (every object of the id should name the same). */
  readonly baseLsn: number;
  /** Whole-segment objects, by key (normally at most one). */
  readonly sealed: readonly ArchivedSegmentObject[];
  /** Pieces of the segment while it was active, by offset (`from`, then `to`). */
  readonly pieces: readonly ArchivedPieceObject[];
}

/**
 * The archive's objects grouped per segment id, oldest first. Objects under `segments/` and `partial/` whose keys
 * are not archive keys are left out (they are not ours). Lists the store (pieces, then sealed segments, so that an
 * archiver sealing a segment meanwhile cannot leave it out of both); fetches nothing.
 * @throws {@link WalError} before calling the store: `WAL_INVALID_ARGUMENT` when `store` is not an
 *   {@link ArchiveStore}; `WAL_INVALID_OPTION` when `options` is not an object, names an option `listArchive` does
 *   not know, or `options.signal` is not an `AbortSignal`. Then what the store's `list` rejects with when it is a
 *   `WalError` (`WAL_IO`), else `WAL_IO` with the thrown value as `cause`; the signal's reason when aborted.
 */
export async function listArchive(store: ArchiveStore, given: ArchiveCallOptions = {}): Promise<ArchivedSegment[]> {
  const options = checkArguments("listArchive", store, given, LIST_ARCHIVE_OPTION_NAMES);
  // Pieces first: an archiver working meanwhile uploads a segment's sealed object before it deletes that segment's
  // pieces, and never deletes a sealed object, so the sealed objects listed after the pieces cover every segment
  // whose pieces were gone by then. Listed the other way round, a seal landing between the two listings left that
  // segment out of both, and a sound archive read as one with a hole (WAL_ARCHIVE_MISSING).
  const pieces = await fromStore(store, "list", PIECES_PREFIX, options.signal, () =>
    store.list(PIECES_PREFIX, options),
  );
  const sealed = await fromStore(store, "list", SEGMENTS_PREFIX, options.signal, () =>
    store.list(SEGMENTS_PREFIX, options),
  );
  const listed = [...sealed, ...pieces];
  const groups = new Map<number, { sealed: ArchivedSegmentObject[]; pieces: ArchivedPieceObject[] }>();
  for (const { key, size } of listed) {
    const parsed = parseArchiveKey(key);
    if (parsed === null) continue;
    let group = groups.get(parsed.id);
    if (group === undefined) {
      group = { sealed: [], pieces: [] };
      groups.set(parsed.id, group);
    }
    if (parsed.kind === "segment") group.sealed.push({ ...parsed, key, storedSize: size });
    else group.pieces.push({ ...parsed, key, storedSize: size });
  }
  return [...groups.entries()]
    .sort(([a], [b]) => a - b)
    .map(([id, { sealed, pieces }]) => {
      pieces.sort((a, b) => a.from - b.from || a.to - b.to);
      const first = sealed[0] ?? (pieces[0] as ArchivedPieceObject);
      return { id, baseLsn: first.baseLsn, sealed, pieces };
    });
}

/** Every option `listArchive` reads; any other name is refused (`WAL_INVALID_OPTION`). */
const LIST_ARCHIVE_OPTION_NAMES = optionNames<ArchiveCallOptions>()("signal");
/** Every option `verifyArchive` reads; any other name is refused (`WAL_INVALID_OPTION`). */
const VERIFY_ARCHIVE_OPTION_NAMES = optionNames<VerifyArchiveOptions>()("signal", "onProgress");

/**
 * @returns The options, each read once (see `checkOptionNames`): the call uses these, never `options` again.
 * @throws {@link WalError} `WAL_INVALID_ARGUMENT` unless `store` is an {@link ArchiveStore}; `WAL_INVALID_OPTION`
 *   unless `options` is an object of `known` names whose `signal`, when given, is an `AbortSignal`.
 */
function checkArguments<T extends ArchiveCallOptions>(
  where: string,
  store: unknown,
  options: T,
  known: readonly string[],
): T {
  checkArchiveStore(store, "WAL_INVALID_ARGUMENT", where, READ_CALLS);
  const read = checkOptionNames(options, known, where);
  assertSignalOption(read.signal, where);
  return read;
}

/** One thing wrong with an archive. */
export interface ArchiveProblem {
  /**
   * The object it concerns. For a missing object, the key pattern it would have (`segments/0000000004-*` for a
   * segment, `partial/0000000007-<base>-<offset>-*` for bytes of the active segment).
   */
  readonly key: string;
  /** `WAL_ARCHIVE_MISSING`, `WAL_ARCHIVE_CORRUPT`, or a store failure's code (`WAL_IO`). */
  readonly code: WalErrorCode;
  readonly message: string;
}

/** What {@link verifyArchive} found. */
export interface ArchiveVerifyReport {
  /** Segments checked (planned, fetched and read to the end) without a problem. */
  readonly segments: number;
  /** Pieces fetched for the newest segment (0 when it is sealed). */
  readonly pieces: number;
  /** Bytes fetched and checked. */
  readonly bytes: number;
  /** The first and last record LSN in the segments checked without a problem (absent when there are none). */
  readonly firstLsn?: number;
  readonly lastLsn?: number;
  /** Everything a restore to the newest LSN would refuse; empty when the archive is sound. */
  readonly problems: readonly ArchiveProblem[];
}

/** How far {@link verifyArchive} is: segments, and the bytes of their objects, checked of those planned. */
export interface VerifyArchiveProgress {
  /** Segments checked so far (found sound or reported as a problem). Never decreases. */
  readonly segmentsDone: number;
  /** The segment ids from the oldest to the newest in the archive's listing. */
  readonly segmentsTotal: number;
  /** Bytes of the checked segments' objects, as the listing names their sizes. Never decreases. */
  readonly bytes: number;
  /**
   * The sum of the sizes of every object the check assembles segments from (as the listing names them when it
   * starts); a piece left beside a segment's object, fetched to be compared with it, is not counted.
   */
  readonly totalBytes: number;
  /** True at the last call, when every segment was checked. */
  readonly done: boolean;
}

/** Options of {@link verifyArchive}. */
export interface VerifyArchiveOptions extends ArchiveCallOptions {
  /**
   * Called after each segment is checked, and once for each run of missing segment ids (the last call with
   * `done: true`); `segmentsDone` counts segment ids, a run's all at once.
   */
  readonly onProgress?: (progress: VerifyArchiveProgress) => void;
}

/**
 * Check everything a restore of the whole archive would, without writing: every segment id from the oldest to the
 * newest is present; each but the newest has a sealed object; the newest has a sealed object or a chain of pieces
 * from offset 0 with no gap after it; every object has the size and CRC-32 its key names (and the size the store
 * lists); each segment's header names the key's base LSN (and is sealed for a sealed object); the bytes read as
 * whole, valid records to the end, with LSNs rising from the base; each segment's base LSN lies above the previous
 * one's records. Problems are collected, not thrown: one per segment at most (the first found), plus one per
 * run of missing segment ids. An empty archive reports one `WAL_ARCHIVE_MISSING` problem ("holds no log segments";
 * for an `fsArchive` whose directory does not exist, "no such archive directory: <dir>" added).
 *
 * Fetches every object restore would (one segment in memory at a time).
 * @throws {@link WalError} before calling the store: `WAL_INVALID_ARGUMENT` when `store` is not an
 *   {@link ArchiveStore}; `WAL_INVALID_OPTION` when `options` is not an object, names an option `verifyArchive` does
 *   not know, `options.signal` is not an `AbortSignal` or `options.onProgress` not a function. Then the signal's
 *   reason when aborted; a store failure on `list` (a failed `get` is reported as a problem).
 */
export async function verifyArchive(
  store: ArchiveStore,
  given: VerifyArchiveOptions = {},
): Promise<ArchiveVerifyReport> {
  const options = checkArguments("verifyArchive", store, given, VERIFY_ARCHIVE_OPTION_NAMES);
  if (options.onProgress !== undefined && typeof options.onProgress !== "function") {
    throw new WalError("WAL_INVALID_OPTION", "verifyArchive: onProgress must be a function");
  }
  const { signal } = options;
  const listing = await listArchive(store, signal === undefined ? {} : { signal });
  const problems: ArchiveProblem[] = [];
  const report = (error: unknown) => {
    // Brand-checked: a store's own copy of @lora/wal-codec makes WalErrors that are not instances of this one.
    if (!isWalError(error)) throw error; // an abort reason, or a bug
    problems.push({ key: error.details.object ?? "", code: error.code, message: error.message });
  };
  if (listing.length === 0) {
    report(await emptyArchiveError(store, ""));
    return { segments: 0, pieces: 0, bytes: 0, problems };
  }
  const planned = planSegments(listing, 0, listing.length - 1);
  const sizeOf = (entry: (typeof planned)[number]): number => (entry instanceof WalError ? 0 : entry.size);
  const totalBytes = planned.reduce((sum, entry) => sum + sizeOf(entry), 0);
  // Counted in segment ids: an entry for a run of missing ids stands for all of them.
  const segmentsTotal = planned.reduce((sum, entry) => sum + segmentIdsOf(entry), 0);
  let segmentsDone = 0;
  let bytesChecked = 0;
  let segments = 0;
  let pieces = 0;
  let bytes = 0;
  let firstLsn: number | undefined;
  let lastLsn: number | undefined;
  let previous: CheckedSegment | undefined;
  for (const [i, entry] of planned.entries()) {
    signal?.throwIfAborted();
    const source = entry instanceof WalError ? undefined : entry;
    if (source === undefined) {
      report(entry);
      previous = undefined;
    } else {
      try {
        const assembled = await fetchSegment(store, source, { signal });
        const scan = await scanSegment(assembled, source);
        if (previous !== undefined) checkFollows(previous, { source, scan });
        segments++;
        if (!source.sealed) pieces += source.parts.length;
        bytes += assembled.byteLength;
        firstLsn ??= scan.firstLsn;
        lastLsn = scan.lastLsn ?? lastLsn;
        previous = { source, scan };
      } catch (error) {
        signal?.throwIfAborted();
        report(error);
        previous = undefined;
      }
    }
    bytesChecked += sizeOf(entry);
    segmentsDone += segmentIdsOf(entry);
    options.onProgress?.({
      segmentsDone,
      segmentsTotal,
      bytes: bytesChecked,
      totalBytes,
      done: i + 1 === planned.length,
    });
  }
  return {
    segments,
    pieces,
    bytes,
    ...(firstLsn === undefined ? {} : { firstLsn }),
    ...(lastLsn === undefined ? {} : { lastLsn }),
    problems,
  };
}

// The steps restore shares: planning from keys, fetching, reading. Not exported from the package.

/** One object in a segment's bytes: `[from, to)` of the segment file. */
export interface SegmentPart {
  readonly key: string;
  readonly from: number;
  readonly to: number;
  readonly crc32: number;
}

/** Where one segment's bytes come from. */
export interface SegmentSource {
  readonly id: number;
  readonly baseLsn: number;
  /** A sealed object holds it whole; otherwise it is the chain of pieces of the active segment. */
  readonly sealed: boolean;
  /** The objects in byte order: the sealed object, or the piece chain from offset 0. */
  readonly parts: readonly SegmentPart[];
  /** The segment's size: the end of the last part. */
  readonly size: number;
  /**
   * The segment's other pieces (beside its sealed object, or off the chain): each must agree, by the CRC-32 in its
   * key, with the bytes the parts assemble, or the archive holds two histories of the segment.
   */
  readonly others: readonly SegmentPart[];
}

/** What reading a segment's assembled bytes found. */
export interface SegmentScan {
  readonly header: SegmentHeader;
  readonly records: number;
  readonly firstLsn: number | undefined;
  readonly lastLsn: number | undefined;
  /** With a `toLsn`: the end of the last record at or below it (32 when there is none), and that record's LSN. */
  readonly cutOffset: number;
  readonly cutLastLsn: number | undefined;
  readonly cutFirstLsn: number | undefined;
}

/** A segment read without a problem. */
export interface CheckedSegment {
  readonly source: SegmentSource;
  readonly scan: SegmentScan;
}

const pad = (n: number, width: number) => String(n).padStart(width, "0");

/** The key pattern of a missing sealed segment object. */
export function missingSegmentKey(id: number): string {
  return `${SEGMENTS_PREFIX}${pad(id, 10)}-*`;
}

function missing(object: string, message: string): WalError {
  return new WalError("WAL_ARCHIVE_MISSING", message, { details: { object } });
}

/** The `WAL_ARCHIVE_MISSING` errors of objects a listing named and a fetch then did not find. */
const goneAfterListing = new WeakSet<WalError>();

/**
 * Whether `error` says an object the listing named was gone when fetched (deleted meanwhile, e.g. the pieces of a
 * segment a live archiver has just sealed), as opposed to one the listing lacked: a new listing may hold what
 * replaced it.
 */
export function isGoneAfterListing(error: unknown): boolean {
  return error instanceof WalError && goneAfterListing.has(error);
}

function corrupt(object: string, message: string, cause?: unknown): WalError {
  return new WalError("WAL_ARCHIVE_CORRUPT", message, {
    details: { object },
    ...(cause === undefined ? {} : { cause }),
  });
}

/** The segment ids a {@link planSegments} entry stands for: more than one for a run of missing ids. */
const missingRunIds = new WeakMap<WalError, number>();

/** How many segment ids `entry` of a {@link planSegments} plan stands for (1 but for a run of missing ids). */
export function segmentIdsOf(entry: SegmentSource | WalError): number {
  return entry instanceof WalError ? (missingRunIds.get(entry) ?? 1) : 1;
}

/**
 * Plan the segments `listing[first..last]` (indexes): one source per segment id between the two, or the error
 * restore would throw for it, one error for each run of ids the listing lacks (see {@link segmentIdsOf}): the
 * plan's length and the work of making it follow the listing, never the ids a key names (a damaged or hostile key
 * can name any id up to 2^53). `newestId` is the newest id in the archive: only it may lack a sealed object.
 */
export function planSegments(
  listing: readonly ArchivedSegment[],
  first: number,
  last: number,
  newestId: number = (listing.at(-1) as ArchivedSegment).id,
): (SegmentSource | WalError)[] {
  const out: (SegmentSource | WalError)[] = [];
  const firstId = (listing[first] as ArchivedSegment).id;
  const lastId = (listing[last] as ArchivedSegment).id;
  for (let i = first; i <= last; i++) {
    const group = listing[i] as ArchivedSegment;
    const id = group.id;
    const previousId = i === first ? id - 1 : (listing[i - 1] as ArchivedSegment).id;
    if (id - previousId > 1) {
      const from = previousId + 1;
      const to = id - 1;
      const which = from === to ? `segment ${from}` : `segments ${from}..${to}`;
      const run = missing(
        missingSegmentKey(from),
        `${which} ${from === to ? "is" : "are"} missing from the archive: it holds segments ${firstId} and ${lastId} but no object of ${which}, so the log would have a hole`,
      );
      missingRunIds.set(run, to - from + 1);
      out.push(run);
    }
    try {
      out.push(segmentSource(group, id === newestId));
    } catch (error) {
      if (!(error instanceof WalError)) throw error;
      out.push(error);
    }
  }
  return out;
}

/** How segment `group` is restored: its sealed object, or (newest only) its piece chain. */
function segmentSource(group: ArchivedSegment, newest: boolean): SegmentSource {
  const { id, baseLsn } = group;
  for (const o of [...group.sealed, ...group.pieces]) {
    if (o.baseLsn !== baseLsn) {
      throw corrupt(
        o.key,
        `${o.key} names base lsn ${o.baseLsn} for segment ${id}, another object of it names ${baseLsn}: the archive mixes two versions of the segment`,
      );
    }
  }
  if (group.sealed.length > 1) {
    const [a, b] = group.sealed as [ArchivedSegmentObject, ArchivedSegmentObject];
    throw corrupt(
      b.key,
      `segment ${id} has two sealed objects, ${a.key} and ${b.key}: which one is the log is unknown`,
    );
  }
  const sealed = group.sealed[0];
  if (sealed !== undefined) {
    if (sealed.storedSize !== sealed.size) {
      throw corrupt(sealed.key, `${sealed.key} holds ${sealed.storedSize} bytes, its key says ${sealed.size}`);
    }
    return {
      id,
      baseLsn,
      sealed: true,
      parts: [{ key: sealed.key, from: 0, to: sealed.size, crc32: sealed.crc32 }],
      size: sealed.size,
      others: group.pieces.map(partOf),
    };
  }
  if (!newest) {
    throw missing(
      missingSegmentKey(id),
      `segment ${id} has no sealed object in the archive (only ${group.pieces.length} piece(s) of it while it was active), but newer segments follow it: its end is missing`,
    );
  }
  const chain = pieceChain(group);
  const used = new Set(chain.parts.map((p) => p.key));
  return { id, baseLsn, sealed: false, ...chain, others: group.pieces.filter((p) => !used.has(p.key)).map(partOf) };
}

function partOf(piece: ArchivedPieceObject): SegmentPart {
  return { key: piece.key, from: piece.from, to: piece.to, crc32: piece.crc32 };
}

/**
 * The chain of pieces from offset 0 that reaches furthest (pieces may repeat or supersede each other: a piece
 * starting where an earlier one starts but ending later). Pieces beyond the chain's end mean bytes in between
 * are missing.
 */
function pieceChain(group: ArchivedSegment): { parts: SegmentPart[]; size: number } {
  const { id, baseLsn, pieces } = group;
  const pieceKey = (from: number) => `${PIECES_PREFIX}${pad(id, 10)}-${pad(baseLsn, 16)}-${pad(from, 12)}-*`;
  // Offsets reachable from 0, each with the piece that reaches it (pieces are sorted by `from`, and a piece ending
  // at an offset starts before it, so it is seen before any piece starting there).
  const reachedBy = new Map<number, ArchivedPieceObject | null>([[0, null]]);
  for (const piece of pieces) {
    if (!reachedBy.has(piece.from)) continue;
    if (!reachedBy.has(piece.to)) reachedBy.set(piece.to, piece);
  }
  const end = Math.max(...reachedBy.keys());
  if (end === 0) {
    throw missing(
      pieceKey(0),
      `segment ${id} has neither a sealed object nor a piece starting at offset 0 (its header): the archive holds pieces from offset ${pieces[0]?.from ?? "?"}`,
    );
  }
  const beyond = pieces.filter((p) => p.to > end);
  if (beyond.length > 0) {
    const next = Math.min(...beyond.map((p) => p.from));
    throw missing(
      pieceKey(end),
      `segment ${id}: no piece starts at offset ${end}, but the archive holds pieces of it up to offset ${Math.max(...beyond.map((p) => p.to))}${next > end ? ` (the next starts at ${next})` : ""}: bytes are missing`,
    );
  }
  const parts: SegmentPart[] = [];
  for (let at = end; at > 0; ) {
    const piece = reachedBy.get(at) as ArchivedPieceObject;
    if (piece.storedSize !== piece.to - piece.from) {
      throw corrupt(piece.key, `${piece.key} holds ${piece.storedSize} bytes, its key says ${piece.to - piece.from}`);
    }
    parts.push({ key: piece.key, from: piece.from, to: piece.to, crc32: piece.crc32 });
    at = piece.from;
  }
  return { parts: parts.reverse(), size: end };
}

/**
 * Fetch a segment's objects and assemble its bytes, checking each object against its key's size and CRC-32.
 * @throws {@link WalError} `WAL_ARCHIVE_MISSING` (a listed object is gone), `WAL_ARCHIVE_CORRUPT`, or the store's
 *   failure.
 */
export async function fetchSegment(
  store: ArchiveStore,
  source: SegmentSource,
  options: {
    readonly signal?: AbortSignal | undefined;
    readonly onPart?: (part: SegmentPart) => void;
    /** Called for each of the source's other pieces once it is fetched and found to agree. */
    readonly onOther?: (part: SegmentPart) => void;
  },
): Promise<Uint8Array> {
  const out = new Uint8Array(source.size);
  for (const part of source.parts) {
    const bytes = await fromStore(store, "get", part.key, options.signal, () =>
      store.get(part.key, options.signal === undefined ? {} : { signal: options.signal }),
    );
    if (bytes === null) {
      const gone = missing(part.key, `${part.key} was listed but is gone from ${store.name} (deleted meanwhile?)`);
      goneAfterListing.add(gone);
      throw gone;
    }
    const expected = part.to - part.from;
    if (bytes.byteLength !== expected) {
      throw corrupt(part.key, `${part.key} holds ${bytes.byteLength} bytes, its key says ${expected}`);
    }
    const actual = crc32(bytes) >>> 0;
    if (actual !== part.crc32 >>> 0) {
      throw corrupt(
        part.key,
        `${part.key} fails its CRC-32: the bytes give ${actual.toString(16).padStart(8, "0")}, the key says ${part.crc32.toString(16).padStart(8, "0")}`,
      );
    }
    out.set(bytes, part.from);
    options.onPart?.(part);
  }
  for (const other of source.others) {
    // A piece shipped before a sealed object, or one that a later piece superseded, holds a prefix of the same
    // bytes; one that does not is another history of this segment (e.g. archived again after a point-in-time
    // restore), and which of the two is the log is unknown. Its key's CRC-32 rules out most such pieces without a
    // fetch, but not one whose records have the sizes of the log's (every record ends with its own CRC-32, so the
    // CRC-32 of whole records depends on their sizes only): the piece is fetched and compared byte for byte (its header in either sealed form: a seal can land while a
    // piece is read for shipping).
    const disagrees = corrupt(
      other.key,
      `${other.key} disagrees with the bytes of segment ${source.id} that ${source.parts[0]?.key ?? "its other objects"} hold${source.parts.length > 1 ? " (with the pieces after it)" : ""}: the archive holds two histories of the segment`,
    );
    if (other.to > out.byteLength || (await pieceCrcIn(out, source.sealed, other)) !== other.crc32 >>> 0) {
      throw disagrees;
    }
    const bytes = await fromStore(store, "get", other.key, options.signal, () =>
      store.get(other.key, options.signal === undefined ? {} : { signal: options.signal }),
    );
    // Deleted since the listing (the archiver removes a sealed segment's pieces): no other history left there.
    if (bytes === null) continue;
    if (!holdsPiece(bytes, out, other)) throw disagrees;
    options.onOther?.(other);
  }
  return out;
}

/**
 * The CRC-32 `piece` would have if it held `bytes[from, to)` of the segment as it was while active: a sealed
 * object's header differs from the one its pieces were shipped with only by the sealed flag (and the header's CRC).
 * `bytes` holds the segment from offset 0 through `piece.to`; `sealed` says whether its header is the sealed one.
 * Computed in slices (see `crc32InSlices`): the archiver checks pieces in the writer's process.
 */
export async function pieceCrcIn(
  bytes: Uint8Array,
  sealed: boolean,
  piece: { readonly from: number; readonly to: number },
): Promise<number> {
  if (!sealed || piece.from >= SEGMENT_HEADER_BYTES) return crc32InSlices(bytes.subarray(piece.from, piece.to));
  let header: Uint8Array;
  try {
    header = withSealedFlag(bytes.subarray(0, SEGMENT_HEADER_BYTES), false);
  } catch {
    header = bytes.subarray(0, SEGMENT_HEADER_BYTES); // a bad header: scanSegment names it
  }
  const headed = crc32(header.subarray(piece.from, Math.min(piece.to, SEGMENT_HEADER_BYTES)));
  if (piece.to <= SEGMENT_HEADER_BYTES) return headed >>> 0;
  return crc32InSlices(bytes.subarray(SEGMENT_HEADER_BYTES, piece.to), CRC_SLICE_BYTES, headed);
}

/** The part holding byte `offset` (the last part for an offset at the end). */
function partAt(source: SegmentSource, offset: number): SegmentPart {
  return source.parts.find((p) => offset >= p.from && offset < p.to) ?? (source.parts.at(-1) as SegmentPart);
}

/** Events are not decoded: restore and verify check the framing (and CRCs) of records whatever their codec. */
const opaqueCodec: PayloadCodec<null> = {
  name: "opaque",
  encodeEvent() {
    throw new WalError("WAL_ENCODE", "the opaque codec only reads");
  },
  encodeBatch() {
    throw new WalError("WAL_ENCODE", "the opaque codec only reads");
  },
  decodeEvent: () => null,
  decodeBatch: () => [],
};

/**
 * Read an assembled segment: its header must decode, name the source's base LSN, and be sealed for a sealed
 * object; its bytes must read as whole, valid records to the end, with LSNs rising and none below the base.
 * With `toLsn`, also where the segment would be cut to keep exactly the records at or below it.
 * @throws {@link WalError} `WAL_ARCHIVE_CORRUPT` naming the object that holds the damage.
 */
export async function scanSegment(bytes: Uint8Array, source: SegmentSource, toLsn?: number): Promise<SegmentScan> {
  const name = `segment ${source.id}`;
  let header: SegmentHeader;
  try {
    header = decodeSegmentHeader(bytes.subarray(0, SEGMENT_HEADER_BYTES), name);
  } catch (error) {
    const key = partAt(source, 0).key;
    throw corrupt(key, `${key} does not start with a valid segment header: ${(error as Error).message}`, error);
  }
  if (header.baseLsn !== source.baseLsn) {
    const key = partAt(source, 0).key;
    throw corrupt(key, `${key}: the segment header says base lsn ${header.baseLsn}, the key says ${source.baseLsn}`);
  }
  if (source.sealed && !header.sealed) {
    const key = partAt(source, 0).key;
    throw corrupt(key, `${key} is archived as a sealed segment but its header is not sealed`);
  }
  const reader = await SegmentReader.open(bytesFileSystem(name, bytes), name);
  let records = 0;
  let firstLsn: number | undefined;
  let lastLsn: number | undefined;
  let cutOffset = SEGMENT_HEADER_BYTES;
  let cutFirstLsn: number | undefined;
  let cutLastLsn: number | undefined;
  try {
    for (;;) {
      const offset = reader.position;
      let lsn: number;
      const buffered = reader.nextBufferedRecord(opaqueCodec);
      if (buffered !== undefined) lsn = buffered.lsn;
      else {
        const step = await reader.next(opaqueCodec);
        if (step.kind === "end") break;
        if (step.kind === "damaged") {
          const key = partAt(source, step.offset).key;
          const what = step.reason === "incomplete" ? "ends inside a record" : "holds a damaged record";
          throw corrupt(key, `${key}: ${name} ${what} at offset ${step.offset}: ${step.error.message}`, step.error);
        }
        lsn = step.record.lsn;
      }
      if (lsn < source.baseLsn || (lastLsn !== undefined && lsn <= lastLsn)) {
        const key = partAt(source, offset).key;
        throw corrupt(
          key,
          `${key}: the record at offset ${offset} of ${name} has lsn ${lsn}, ${lastLsn === undefined ? `below the base lsn ${source.baseLsn}` : `not above the previous record's ${lastLsn}`}`,
        );
      }
      records++;
      firstLsn ??= lsn;
      lastLsn = lsn;
      if (toLsn !== undefined && lsn <= toLsn) {
        cutOffset = reader.position;
        cutFirstLsn ??= lsn;
        cutLastLsn = lsn;
      }
    }
  } finally {
    await reader.close();
  }
  return { header, records, firstLsn, lastLsn, cutOffset, cutFirstLsn, cutLastLsn };
}

/**
 * `next` may follow `previous` in a log: a higher base LSN, above every record of `previous` (replay's rules).
 * @throws {@link WalError} `WAL_ARCHIVE_CORRUPT` naming `next`'s first object.
 */
export function checkFollows(previous: CheckedSegment, next: CheckedSegment): void {
  const key = (next.source.parts[0] as SegmentPart).key;
  const base = next.source.baseLsn;
  if (base <= previous.source.baseLsn || (previous.scan.lastLsn !== undefined && base <= previous.scan.lastLsn)) {
    throw corrupt(
      key,
      `${key}: segment ${next.source.id} starts at lsn ${base}, not above segment ${previous.source.id} (base ${previous.source.baseLsn}, last record ${previous.scan.lastLsn ?? "none"})`,
    );
  }
}

/** A read-only file system holding one file, so a SegmentReader can read bytes already in memory. */
function bytesFileSystem(path: string, bytes: Uint8Array): WalFileSystem {
  const refuse = (syscall: string, p: string) =>
    Promise.reject(
      new WalError("WAL_IO", `${syscall} ${p}: an in-memory segment is read-only`, {
        details: { errno: "EROFS", syscall, path: p },
      }),
    );
  const file: WalFile = {
    path,
    read(buffer, offset, length, position) {
      const n = Math.max(0, Math.min(length, bytes.byteLength - position));
      if (n > 0) buffer.set(bytes.subarray(position, position + n), offset);
      return Promise.resolve(n);
    },
    write: () => refuse("write", path),
    datasync: () => refuse("fdatasync", path),
    sync: () => refuse("fsync", path),
    truncate: () => refuse("ftruncate", path),
    size: () => Promise.resolve(bytes.byteLength),
    close: () => Promise.resolve(),
  };
  return {
    name: "archive-bytes",
    open: (p, mode) => (p === path && mode === "read" ? Promise.resolve(file) : refuse("open", p)),
    mkdirp: (p) => refuse("mkdir", p),
    readdir: (p) => refuse("scandir", p),
    stat: (p) => Promise.resolve(p === path ? { size: bytes.byteLength, isFile: true, isDirectory: false } : null),
    rename: (p) => refuse("rename", p),
    unlink: (p) => refuse("unlink", p),
    syncDir: (p) => refuse("fsync", p),
  };
}

/**
 * `call` to the store, its failure a `WalError` whatever the store threw: a store of the caller's may reject with
 * anything, and the contract names `WAL_IO` for its failures. A `WalError` and an abort (the signal's reason) pass
 * through as they are; anything else becomes `WAL_IO` naming the key (`details.object`), the thrown value its `cause`.
 */
async function fromStore<T>(
  store: ArchiveStore,
  op: "list" | "get",
  key: string,
  signal: AbortSignal | undefined,
  call: () => Promise<T>,
): Promise<T> {
  try {
    return await call();
  } catch (error) {
    if (isWalError(error) || signal?.aborted === true) throw error;
    throw storeIoError(`archive store ${store.name}`, op, key, error);
  }
}
