// registry/ranges: the two range headers of the registry: `Range: bytes=a-b` on blob GET and the
// upload `Content-Range: a-b` on chunked PATCH. Unsatisfiable or malformed ranges are RANGE_INVALID (416).
import { SkiffError } from '../core/errors.ts';

export interface ByteRange {
  start: number;
  end: number; // inclusive
}

/** Parses `bytes=a-b`, `bytes=a-` or `bytes=-n` against a blob of `size`; undefined when absent. */
export function parseRangeHeader(header: string | undefined, size: number): ByteRange | undefined {
  if (header === undefined) return undefined;
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!m || (m[1] === '' && m[2] === '')) throw new SkiffError('RANGE_INVALID', `unsupported Range ${header.slice(0, 100)}`);
  let start: number;
  let end: number;
  if (m[1] === '') {
    const suffix = Number(m[2]);
    start = Math.max(0, size - suffix);
    end = size - 1;
  } else {
    start = Number(m[1]);
    end = m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1);
  }
  if (start > end || start >= size) throw new SkiffError('RANGE_INVALID', `range ${header.slice(0, 100)} is not satisfiable for ${size} bytes`);
  return { start, end };
}

/** Parses an upload chunk's `Content-Range: a-b` (optionally `bytes a-b/*`); undefined when absent. */
export function parseContentRange(header: string | undefined): ByteRange | undefined {
  if (header === undefined) return undefined;
  const m = /^(?:bytes[ =])?(\d+)-(\d+)(?:\/(?:\d+|\*))?$/.exec(header.trim());
  if (!m) throw new SkiffError('RANGE_INVALID', `malformed Content-Range ${header.slice(0, 100)}`);
  const start = Number(m[1]);
  const end = Number(m[2]);
  if (end < start) throw new SkiffError('RANGE_INVALID', `Content-Range ${header.slice(0, 100)} ends before it starts`);
  return { start, end };
}
