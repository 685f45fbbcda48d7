// gateway/trace-context: W3C Trace Context (https://www.w3.org/TR/trace-context/) as the gateway needs
// it on every request, with or without tracing: read the client's `traceparent`, and give the instance
// one that keeps the client's trace id with a new parent id (the gateway's hop), or starts a new trace
// when the client sent none or an invalid one. Pure and cheap: one regex, ids cut from a pooled block of
// random bytes (a randomBytes call per id costs more than the rest of this file together).
import { randomFillSync } from 'node:crypto';

export interface TraceParent {
  traceId: string;
  parentId: string;
  /** trace-flags as two hex digits (01: sampled) */
  flags: string;
}

// version 00 exactly; a later version is read by its first four fields, as the spec asks of a
// version-00 parser (followed by '-' and more, or nothing); ff is invalid.
const TRACEPARENT = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-.*)?$/;
const ZERO_TRACE = '0'.repeat(32);
const ZERO_SPAN = '0'.repeat(16);

/** the common case, version 00, checked without captures (then sliced: cheaper than exec's groups) */
const TRACEPARENT_00 = /^00-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$/;

/** The client's traceparent, or undefined when absent or invalid (then a new trace starts). */
export function parseTraceparent(value: string | undefined): TraceParent | undefined {
  if (value === undefined || value.length < 55) return undefined;
  let traceId: string;
  let parentId: string;
  let flags: string;
  if (value.length === 55 && TRACEPARENT_00.test(value)) {
    traceId = value.slice(3, 35);
    parentId = value.slice(36, 52);
    flags = value.slice(53, 55);
  } else {
    const m = TRACEPARENT.exec(value);
    if (!m) return undefined;
    const version = m[1]!;
    if (version === 'ff' || (version === '00' && m[5] !== undefined)) return undefined;
    traceId = m[2]!;
    parentId = m[3]!;
    flags = m[4]!;
  }
  if (traceId === ZERO_TRACE || parentId === ZERO_SPAN) return undefined;
  return { traceId, parentId, flags };
}

const POOL_BYTES = 4096;
const pool = Buffer.alloc(POOL_BYTES);
let used = POOL_BYTES;

/** `bytes` random bytes as lower-case hex, never all zeros (invalid as an id). */
function randomHex(bytes: number): string {
  for (;;) {
    if (used + bytes > POOL_BYTES) {
      randomFillSync(pool);
      used = 0;
    }
    const hex = pool.toString('hex', used, used + bytes);
    used += bytes;
    if (hex !== ZERO_TRACE && hex !== ZERO_SPAN) return hex;
  }
}

export function newTraceId(): string {
  return randomHex(16);
}

export function newSpanId(): string {
  return randomHex(8);
}

/**
 * The traceparent the instance gets when the gateway records nothing (tracing off): the client's trace
 * id and flags with a new parent id, or a new unsampled trace. With tracing on, observe.ts builds it
 * from the request's span instead.
 */
export function propagatedTraceparent(incoming: TraceParent | undefined): string {
  return incoming ? `00-${incoming.traceId}-${newSpanId()}-${incoming.flags}` : `00-${newTraceId()}-${newSpanId()}-00`;
}
