// gateway/http1: the fast path's HTTP/1.1 head parsing, pure and strict. A request head is accepted
// only in the plain, common form (origin-form HTTP/1.1, token header names, no obs-fold, no bare CR or
// LF, one Host, at most one decimal Content-Length, no Transfer-Encoding/Upgrade/Expect, Connection
// naming only keep-alive/close); anything else returns undefined and the connection goes to the
// node:http path, whose llhttp parser answers or rejects it. Refusing rather than interpreting an odd
// head is what keeps request smuggling out: the fast path never has to decide between two framings.
// Responses are parsed for their framing only; hop-by-hop headers are dropped in both directions
// (RFC 9110 §7.6.1) and X-Forwarded-* / Forwarded are set as forwardedHeaders() does on the slow path.
// A response head may end its lines in a bare LF (RFC 9112 §2.2 lets a recipient accept that; busybox
// CGI does it): instances are the operator's own, and what reaches the client is rewritten with CRLF.
// A request may not: a bare LF read one way here and another way by an app is how requests are smuggled.

import { forwarding } from './headers.ts';

/** the blank line that ends a head */
export const HEAD_END = Buffer.from('\r\n\r\n');
/** node:http's default maxHeaderSize: a longer request head is answered 431 */
export const MAX_REQUEST_HEAD = 16 * 1024;
/** an instance's response head may be this long */
export const MAX_RESPONSE_HEAD = 64 * 1024;
/** how long a connection the gateway has ended may wait for the client's side to close */
export const LINGER_MS = 2_000;

const REQUEST_LINE = /^([!#$%&'*+\-.^_`|~0-9A-Za-z]+) (\/[!-~]*) HTTP\/1\.1$/;
const STATUS_LINE = /^HTTP\/1\.([01]) ([1-9]\d\d)(?: [\t\x20-\x7e\x80-\xff]*)?$/;
const DECIMAL = /^\d{1,15}$/;

export interface RequestHead {
  method: string;
  /** origin-form request target, as sent */
  target: string;
  host: string;
  contentLength: number;
  /** the client asked to close the connection after this exchange */
  close: boolean;
  /** header lines to forward, each ending in CRLF: hop-by-hop and X-Forwarded-* removed */
  kept: string;
  forwardedFor: string | undefined;
  forwardedProto: string | undefined;
  forwardedHost: string | undefined;
  forwarded: string | undefined;
  /** W3C trace context as sent (dropped from `kept`: the gateway sends its own, trace-context.ts);
   *  traceparent '' when sent twice (invalid: a new trace starts), tracestate's repeats joined */
  traceparent: string | undefined;
  tracestate: string | undefined;
}

/** Request headers that end the fast path: they change framing or need an interim exchange, or
 *  (Prefer: respond-async) the gateway answers the request itself (async.ts). */
const SLOW_REQUEST_HEADERS = new Set(['transfer-encoding', 'upgrade', 'expect', 'http2-settings', 'prefer']);
/** Hop-by-hop headers dropped on the way (Connection itself is interpreted, then dropped). */
const HOP_BY_HOP = new Set(['keep-alive', 'proxy-authenticate', 'proxy-authorization', 'proxy-connection', 'te', 'trailer', 'transfer-encoding', 'upgrade']);
/** Every header name either parser acts on; lengths first, so most names are never lower-cased. */
const INTERESTING = new Set([...SLOW_REQUEST_HEADERS, ...HOP_BY_HOP, 'host', 'content-length', 'connection', 'x-forwarded-for', 'x-forwarded-proto', 'x-forwarded-host', 'forwarded', 'traceparent', 'tracestate']);
const INTERESTING_LENGTHS = new Set([...INTERESTING].map((n) => n.length));

/** RFC 9110 §5.6.2 token characters, by char code */
const TOKEN_CHAR = new Uint8Array(128);
for (const c of "!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz") TOKEN_CHAR[c.charCodeAt(0)] = 1;

/**
 * Walks the header lines of a head (after its first line) in one pass over its characters: each
 * name must be a token directly followed by ':' (so no obs-fold, no "Content-Length : 5"), each value
 * free of control bytes other than HT, and every CR must start the line's CRLF (so no bare CR or LF).
 * For each line `visit` gets the name lower-cased when it is one of INTERESTING (else '') and, for
 * those only, the value without OWS; it returns 'keep', 'drop' or 'refuse'. Kept lines are collected
 * as runs sliced from `head`. Returns the kept lines, each ending in CRLF, or undefined when a line
 * is malformed or refused. (A regex per line cost ~4× as much on a typical response head.)
 */
function walkHeaders(head: string, from: number, visit: (name: string, value: string) => 'keep' | 'drop' | 'refuse'): string | undefined {
  const n = head.length;
  let kept = '';
  let runFrom = from;
  let start = from;
  while (start < n) {
    let i = start;
    for (let c = head.charCodeAt(i); i < n && c < 128 && TOKEN_CHAR[c] === 1; c = head.charCodeAt(++i));
    if (i === start || head.charCodeAt(i) !== 0x3a /* : */) return undefined;
    let eol = i + 1;
    for (let c = head.charCodeAt(eol); eol < n && (c >= 0x20 ? c !== 0x7f : c === 0x09); c = head.charCodeAt(++eol));
    if (eol < n && (head.charCodeAt(eol) !== 0x0d || head.charCodeAt(eol + 1) !== 0x0a)) return undefined;
    const lower = INTERESTING_LENGTHS.has(i - start) ? head.slice(start, i).toLowerCase() : '';
    const name = INTERESTING.has(lower) ? lower : '';
    const verdict = visit(name, name === '' ? '' : trimOws(head.slice(i + 1, eol)));
    if (verdict === 'refuse') return undefined;
    if (verdict === 'drop') {
      kept += head.slice(runFrom, start);
      runFrom = eol + 2;
    }
    start = eol + 2;
  }
  return runFrom < n ? kept + head.slice(runFrom) + '\r\n' : kept;
}

/** Without the optional whitespace around it: SP and HT only (RFC 9110 §5.6.3) — String.trim()
 *  would also take NBSP and other Unicode spaces, letting "\xa05" pass as a Content-Length of 5. */
function trimOws(s: string): string {
  let start = 0;
  let end = s.length;
  while (start < end && (s.charCodeAt(start) === 0x20 || s.charCodeAt(start) === 0x09)) start++;
  while (end > start && (s.charCodeAt(end - 1) === 0x20 || s.charCodeAt(end - 1) === 0x09)) end--;
  return s.slice(start, end);
}


/** `head` is the request head as latin1 without its final CRLFCRLF. */
export function parseRequestHead(head: string): RequestHead | undefined {
  const eol = head.indexOf('\r\n');
  const line = REQUEST_LINE.exec(eol < 0 ? head : head.slice(0, eol));
  if (!line || eol < 0) return undefined; // no Host without a header line
  const r: RequestHead = { method: line[1]!, target: line[2]!, host: '', contentLength: 0, close: false, kept: '', forwardedFor: undefined, forwardedProto: undefined, forwardedHost: undefined, forwarded: undefined, traceparent: undefined, tracestate: undefined };
  let hosts = 0;
  let lengths = 0;
  const kept = walkHeaders(head, eol + 2, (name, value) => {
    switch (name) {
      case '':
        return 'keep';
      case 'host':
        hosts++;
        r.host = value;
        return 'keep';
      case 'content-length': {
        if (++lengths > 1 || !DECIMAL.test(value)) return 'refuse';
        r.contentLength = Number(value);
        return 'keep';
      }
      case 'connection':
        for (const token of value.split(',')) {
          const t = trimOws(token).toLowerCase();
          if (t === 'close') r.close = true;
          else if (t !== 'keep-alive' && t !== '') return 'refuse'; // names a header to strip: rare, slow path
        }
        return 'drop';
      case 'x-forwarded-for':
        r.forwardedFor = joinValue(r.forwardedFor, value);
        return 'drop';
      case 'x-forwarded-proto':
        r.forwardedProto = joinValue(r.forwardedProto, value);
        return 'drop';
      case 'x-forwarded-host':
        r.forwardedHost = joinValue(r.forwardedHost, value);
        return 'drop';
      case 'forwarded':
        r.forwarded = joinValue(r.forwarded, value);
        return 'drop';
      case 'traceparent':
        r.traceparent = r.traceparent === undefined ? value : '';
        return 'drop';
      case 'tracestate':
        r.tracestate = r.tracestate === undefined ? value : `${r.tracestate},${value}`;
        return 'drop';
    }
    if (SLOW_REQUEST_HEADERS.has(name)) return 'refuse';
    return HOP_BY_HOP.has(name) ? 'drop' : 'keep';
  });
  if (kept === undefined || hosts !== 1) return undefined;
  r.kept = kept;
  return r;
}

function joinValue(prior: string | undefined, value: string): string {
  return prior === undefined ? value : `${prior}, ${value}`;
}

/** The head sent to the instance: the app's path, kept headers, then the forwarding headers — the
 *  client's own only when `trusted` (a trusted front proxy's), see headers.ts. */
export function upstreamRequestHead(r: RequestHead, path: string, remoteAddress: string, trusted = false, proto: 'http' | 'https' = 'http', trace = ''): string {
  const f = forwarding({ for: r.forwardedFor, proto: r.forwardedProto, host: r.forwardedHost, forwarded: r.forwarded }, remoteAddress, r.host, proto, trusted);
  return `${r.method} ${path} HTTP/1.1\r\n${r.kept}x-forwarded-for: ${f.for}\r\nx-forwarded-proto: ${f.proto}\r\nx-forwarded-host: ${f.host}\r\nforwarded: ${f.forwarded}\r\n${trace}\r\n`;
}

/** How a response body ends: a byte count, chunked framing, the upstream closing, or no body at all. */
export type Framing = { kind: 'length'; length: number } | { kind: 'chunked' } | { kind: 'close' } | { kind: 'none' };

export interface ResponseHead {
  status: number;
  framing: Framing;
  /** the upstream connection cannot carry another request after this response */
  upstreamClose: boolean;
  /** the status line and the kept header lines for the client, each ending in CRLF (the blank line not included) */
  head: string;
}

/** `head` is the response head as latin1 without its final CRLFCRLF; undefined when malformed. */
export function parseResponseHead(head: string, requestMethod: string): ResponseHead | undefined {
  const eol = head.indexOf('\r\n');
  const statusLine = eol < 0 ? head : head.slice(0, eol);
  const m = STATUS_LINE.exec(statusLine);
  if (!m) return undefined;
  const http10 = m[1] === '0';
  const status = Number(m[2]);
  let length: number | undefined;
  let chunked = false;
  let otherCoding = false;
  let sawClose = false;
  let sawKeepAlive = false;
  let malformed = false;
  /** headers the Connection header names (besides close/keep-alive): hop-by-hop too */
  let named: Set<string> | undefined;
  let kept = eol < 0 ? '' : walkHeaders(head, eol + 2, (name, value) => {
    switch (name) {
      case '':
        return 'keep';
      case 'content-length': {
        if (!DECIMAL.test(value) || (length !== undefined && length !== Number(value))) malformed = true;
        length = Number(value);
        return 'keep';
      }
      case 'transfer-encoding':
        // chunked must be the last coding; anything else is read until close (RFC 9112 §6.3).
        // Kept: the body bytes pass through unchanged, framing and all.
        chunked = /(?:^|,)\s*chunked\s*$/i.test(value);
        otherCoding = !chunked;
        return 'keep';
      case 'connection':
        for (const token of value.toLowerCase().split(',')) {
          const t = trimOws(token);
          if (t === 'close') sawClose = true;
          else if (t === 'keep-alive') sawKeepAlive = true;
          else if (t !== '') (named ??= new Set()).add(t);
        }
        return 'drop';
    }
    return HOP_BY_HOP.has(name) ? 'drop' : 'keep';
  });
  if (kept === undefined || malformed) return undefined;
  if (named) kept = kept.split('\r\n').filter((l) => !named!.has(l.slice(0, l.indexOf(':')).toLowerCase())).join('\r\n');
  let framing: Framing;
  if (requestMethod === 'HEAD' || status < 200 || status === 204 || status === 304) framing = { kind: 'none' };
  else if (chunked) framing = { kind: 'chunked' };
  else if (otherCoding) framing = { kind: 'close' };
  else if (length !== undefined) framing = { kind: 'length', length };
  else framing = { kind: 'close' };
  // both framings: Transfer-Encoding wins and the length must not reach the client (RFC 9112 §6.3)
  if (chunked && length !== undefined) kept = kept.replace(/(^|\r\n)content-length:[^\r]*\r\n/gi, '$1');
  // HTTP/1.0 closes unless it asks to keep alive; a close-delimited body ends with the connection
  const upstreamClose = sawClose || (http10 && !sawKeepAlive) || framing.kind === 'close';
  const line = http10 ? 'HTTP/1.1' + statusLine.slice(8) : statusLine;
  return { status, framing, upstreamClose, head: `${line}\r\n${kept}` };
}

/**
 * A response head whose lines may end in a bare LF: where it ends (the index after its blank line)
 * and its text with every line ending made CRLF, without the blank line — what parseResponseHead
 * takes. Undefined while no blank line is in `buf`. A bare CR stays as it is (and is refused there).
 */
export function lenientResponseHead(buf: Buffer, max: number): { head: string; next: number } | undefined {
  const limit = Math.min(buf.length, max);
  for (let i = buf.indexOf(0x0a); i >= 0 && i < limit; i = buf.indexOf(0x0a, i + 1)) {
    let blank = 0;
    if (buf[i + 1] === 0x0a) blank = 1;
    else if (buf[i + 1] === 0x0d && buf[i + 2] === 0x0a) blank = 2;
    if (blank === 0) continue;
    const end = buf[i - 1] === 0x0d ? i - 1 : i;
    return { head: buf.toString('latin1', 0, end).replace(/\r?\n/g, '\r\n'), next: i + 1 + blank };
  }
  return undefined;
}
