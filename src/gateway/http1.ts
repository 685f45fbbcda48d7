// gateway/http1: the fast path's HTTP/1.1 head parsing, pure and strict. A request head is accepted
// only in the plain, common form (origin-form HTTP/1.1, token header names, no obs-fold, no bare CR or
// LF, one Host, at most one decimal Content-Length, no Transfer-Encoding/Upgrade/Expect, Connection
// naming only keep-alive/close); anything else returns undefined and the connection goes to the
// node:http path, whose llhttp parser answers or rejects it. Refusing rather than interpreting an odd
// head is what keeps request smuggling out: the fast path never has to decide between two framings.
// Responses are parsed for their framing only; hop-by-hop headers are dropped in both directions
// (RFC 9110 §7.6.1) and X-Forwarded-* are merged as forwardedHeaders() does on the slow path.

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const REQUEST_LINE = /^([!#$%&'*+\-.^_`|~0-9A-Za-z]+) (\/[!-~]*) HTTP\/1\.1$/;
const STATUS_LINE = /^HTTP\/1\.([01]) ([1-9]\d\d)(?: [^\r\n]*)?$/;
/** control characters other than HT, and any CR or LF that is not part of a CRLF pair */
const BAD_BYTES = /[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]|\r(?!\n)|(?<!\r)\n/;
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
}

/** Request headers that end the fast path: they change framing or need an interim exchange. */
const SLOW_REQUEST_HEADERS = new Set(['transfer-encoding', 'upgrade', 'expect', 'http2-settings']);
/** Hop-by-hop headers dropped on the way (Connection itself is interpreted, then dropped). */
const HOP_BY_HOP = new Set(['keep-alive', 'proxy-authenticate', 'proxy-authorization', 'proxy-connection', 'te', 'trailer', 'transfer-encoding', 'upgrade']);

/** `head` is the request head as latin1 without its final CRLFCRLF. */
export function parseRequestHead(head: string): RequestHead | undefined {
  if (BAD_BYTES.test(head)) return undefined;
  let eol = head.indexOf('\r\n');
  const line = REQUEST_LINE.exec(eol < 0 ? head : head.slice(0, eol));
  if (!line) return undefined;
  const r: RequestHead = { method: line[1]!, target: line[2]!, host: '', contentLength: 0, close: false, kept: '', forwardedFor: undefined, forwardedProto: undefined, forwardedHost: undefined };
  let hosts = 0;
  let lengths = 0;
  while (eol >= 0) {
    const start = eol + 2;
    eol = head.indexOf('\r\n', start);
    const text = eol < 0 ? head.slice(start) : head.slice(start, eol);
    const colon = text.indexOf(':');
    if (colon <= 0) return undefined; // also catches obs-fold lines, which start with SP/HT
    const rawName = text.slice(0, colon);
    if (!TOKEN.test(rawName)) return undefined; // "Content-Length : 5" and friends
    const name = rawName.toLowerCase();
    const value = text.slice(colon + 1).trim();
    switch (name) {
      case 'host':
        hosts++;
        r.host = value;
        r.kept += text + '\r\n';
        continue;
      case 'content-length':
        if (++lengths > 1 || !DECIMAL.test(value)) return undefined;
        r.contentLength = Number(value);
        r.kept += text + '\r\n';
        continue;
      case 'connection':
        for (const token of value.split(',')) {
          const t = token.trim().toLowerCase();
          if (t === 'close') r.close = true;
          else if (t !== 'keep-alive' && t !== '') return undefined; // names a header to strip: rare, slow path
        }
        continue;
      case 'x-forwarded-for':
        r.forwardedFor = r.forwardedFor === undefined ? value : `${r.forwardedFor}, ${value}`;
        continue;
      case 'x-forwarded-proto':
        r.forwardedProto = r.forwardedProto === undefined ? value : `${r.forwardedProto}, ${value}`;
        continue;
      case 'x-forwarded-host':
        r.forwardedHost = r.forwardedHost === undefined ? value : `${r.forwardedHost}, ${value}`;
        continue;
    }
    if (SLOW_REQUEST_HEADERS.has(name)) return undefined;
    if (HOP_BY_HOP.has(name)) continue;
    r.kept += text + '\r\n';
  }
  return hosts === 1 ? r : undefined;
}

/** The head sent to the instance: the app's path, kept headers, then X-Forwarded-* merged. */
export function upstreamRequestHead(r: RequestHead, path: string, remoteAddress: string): string {
  const forwardedFor = r.forwardedFor === undefined ? remoteAddress : `${r.forwardedFor}, ${remoteAddress}`;
  return `${r.method} ${path} HTTP/1.1\r\n${r.kept}x-forwarded-for: ${forwardedFor}\r\nx-forwarded-proto: ${r.forwardedProto ?? 'http'}\r\nx-forwarded-host: ${r.forwardedHost ?? r.host}\r\n\r\n`;
}

/** How a response body ends: a byte count, chunked framing, the upstream closing, or no body at all. */
export type Framing = { kind: 'length'; length: number } | { kind: 'chunked' } | { kind: 'close' } | { kind: 'none' };

export interface ResponseHead {
  status: number;
  framing: Framing;
  /** the upstream connection cannot carry another request after this response */
  upstreamClose: boolean;
  /** the status line and kept header lines for the client, without the final CRLF */
  head: string;
}

/** `head` is the response head as latin1 without its final CRLFCRLF; undefined when malformed. */
export function parseResponseHead(head: string, requestMethod: string): ResponseHead | undefined {
  if (BAD_BYTES.test(head)) return undefined;
  let eol = head.indexOf('\r\n');
  const statusLine = eol < 0 ? head : head.slice(0, eol);
  const m = STATUS_LINE.exec(statusLine);
  if (!m) return undefined;
  const status = Number(m[2]);
  let out = m[1] === '1' ? statusLine : 'HTTP/1.1' + statusLine.slice(8);
  let length: number | undefined;
  let chunked = false;
  let otherCoding = false;
  let sawClose = false;
  let sawKeepAlive = false;
  /** headers the Connection header names (besides close/keep-alive): hop-by-hop too */
  let named: Set<string> | undefined;
  while (eol >= 0) {
    const start = eol + 2;
    eol = head.indexOf('\r\n', start);
    const text = eol < 0 ? head.slice(start) : head.slice(start, eol);
    const colon = text.indexOf(':');
    if (colon <= 0 || !TOKEN.test(text.slice(0, colon))) return undefined;
    const name = text.slice(0, colon).toLowerCase();
    const value = text.slice(colon + 1).trim();
    if (name === 'content-length') {
      if (!DECIMAL.test(value) || (length !== undefined && length !== Number(value))) return undefined;
      length = Number(value);
    } else if (name === 'transfer-encoding') {
      // chunked must be the last coding; anything else is read until close (RFC 9112 §6.3)
      chunked = /(?:^|,)\s*chunked\s*$/i.test(value);
      otherCoding = !chunked;
      out += '\r\n' + text; // forwarded as is: the body bytes are passed through unchanged
      continue;
    } else if (name === 'connection') {
      for (const token of value.toLowerCase().split(',')) {
        const t = token.trim();
        if (t === 'close') sawClose = true;
        else if (t === 'keep-alive') sawKeepAlive = true;
        else if (t !== '') (named ??= new Set()).add(t);
      }
      continue;
    } else if (HOP_BY_HOP.has(name)) continue;
    out += '\r\n' + text;
  }
  let framing: Framing;
  if (requestMethod === 'HEAD' || status < 200 || status === 204 || status === 304) framing = { kind: 'none' };
  else if (chunked) framing = { kind: 'chunked' };
  else if (otherCoding) framing = { kind: 'close' };
  else if (length !== undefined) framing = { kind: 'length', length };
  else framing = { kind: 'close' };
  if (named) out = out.split('\r\n').filter((l, i) => i === 0 || !named.has(l.slice(0, l.indexOf(':')).toLowerCase())).join('\r\n');
  if (chunked && length !== undefined) {
    // both framings: Transfer-Encoding wins and the length must not reach the client (RFC 9112 §6.3)
    out = out.replace(/\r\ncontent-length:[^\r]*/gi, '');
  }
  // HTTP/1.0 closes unless it asks to keep alive; a close-delimited body ends with the connection
  const upstreamClose = sawClose || (m[1] === '0' && !sawKeepAlive) || framing.kind === 'close';
  return { status, framing, upstreamClose, head: out };
}
