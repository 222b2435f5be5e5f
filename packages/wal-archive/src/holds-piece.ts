/** Whether a piece holds a stretch of a segment's bytes, the header's sealed flag aside. */

import { decodeSegmentHeader, encodeSegmentHeader, SEGMENT_HEADER_BYTES, withSealedFlag } from "@lora/wal-segment";
import { sameBytes } from "./same-bytes.js";

/**
 * Whether `stored`, the bytes of a piece, are bytes `[piece.from, piece.to)` of the segment `segment` (its bytes from
 * offset 0 through at least `piece.to`), whichever the sealed flag in either header. A piece is shipped while its
 * segment is active, but a seal can land while it is read for shipping (the piece holds the sealed header) and before
 * a check reads the segment (the segment's header is sealed, the piece's not): the same history either way. So the
 * part of the header the piece holds must equal the segment's header as it is, or with its sealed flag cleared or set
 * (every other byte kept, as a seal keeps them; the flag is covered by the header's own CRC), or re-encoded sealed or
 * unsealed (reserved bytes zero); every byte after the header must be the same, and `stored` must be
 * exactly `piece.to - piece.from` bytes long. A segment header that does not decode is compared as it is: whoever
 * reads the segment names a bad header.
 *
 * Not a check of a piece's key: its CRC-32 rules out other record sizes without a fetch (see `pieceCrcIn`), this
 * tells apart other records of the same sizes.
 */
export function holdsPiece(
  stored: Uint8Array,
  segment: Uint8Array,
  piece: { readonly from: number; readonly to: number },
): boolean {
  const { from, to } = piece;
  // A segment that ends before `to` fails below: the bytes it has there are fewer than the piece's.
  if (stored.byteLength !== to - from) return false;
  // How many of the piece's bytes are header bytes: none for a piece from offset 32 on.
  const headerEnd = Math.max(0, Math.min(to, SEGMENT_HEADER_BYTES) - from);
  if (!sameBytes(stored.subarray(headerEnd), segment.subarray(from + headerEnd, to))) return false;
  if (headerEnd === 0) return true;
  const held = stored.subarray(0, headerEnd);
  return headerForms(segment).some((header) => sameBytes(held, header.subarray(from, from + headerEnd)));
}

/**
 * The segment's header as it is and, when it decodes, with the sealed flag cleared and set (every other byte kept, as
 * a seal keeps them) and re-encoded both ways (reserved bytes zero, as older seals wrote it).
 */
function headerForms(segment: Uint8Array): Uint8Array[] {
  const asIs = segment.subarray(0, SEGMENT_HEADER_BYTES);
  try {
    const { baseLsn, flags } = decodeSegmentHeader(asIs);
    return [
      asIs,
      withSealedFlag(asIs, false),
      withSealedFlag(asIs, true),
      encodeSegmentHeader({ baseLsn, sealed: false, flags }),
      encodeSegmentHeader({ baseLsn, sealed: true, flags }),
    ];
  } catch {
    return [asIs];
  }
}
