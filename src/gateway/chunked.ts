// gateway/chunked: finds where a chunked message body ends (RFC 9112 §7.1) while its bytes stream
// through unchanged. The fast path needs only the end, to know when the upstream connection is free
// again; it never decodes or re-frames. Pure: a state machine fed buffer by buffer.

const enum S {
  Size,
  Extension,
  SizeLf,
  Data,
  DataCr,
  DataLf,
  TrailerStart,
  Trailer,
  TrailerLf,
  FinalLf,
}

const CR = 13;
const LF = 10;
/** 12 hex digits = 256 TiB: more is an attack on the counter, not a chunk */
const MAX_SIZE_DIGITS = 12;

export const CHUNKED_MALFORMED = -2;

export class ChunkedScanner {
  private state = S.Size;
  private size = 0;
  private digits = 0;
  private remaining = 0;

  /** Index just past the body's last byte in `buf`, -1 when it continues past `buf`, CHUNKED_MALFORMED on bad framing. */
  scan(buf: Uint8Array, from = 0): number {
    for (let i = from; i < buf.length; i++) {
      const c = buf[i]!;
      switch (this.state) {
        case S.Size: {
          const v = hexValue(c);
          if (v >= 0) {
            if (++this.digits > MAX_SIZE_DIGITS) return CHUNKED_MALFORMED;
            this.size = this.size * 16 + v;
          } else if (this.digits === 0) return CHUNKED_MALFORMED;
          else if (c === CR) this.state = S.SizeLf;
          else if (c === 0x3b /* ; */ || c === 0x20 || c === 0x09) this.state = S.Extension;
          else return CHUNKED_MALFORMED;
          break;
        }
        case S.Extension:
          if (c === CR) this.state = S.SizeLf;
          else if (c === LF) return CHUNKED_MALFORMED;
          break;
        case S.SizeLf:
          if (c !== LF) return CHUNKED_MALFORMED;
          if (this.size === 0) this.state = S.TrailerStart;
          else {
            this.remaining = this.size;
            this.state = S.Data;
          }
          this.size = 0;
          this.digits = 0;
          break;
        case S.Data: {
          const take = Math.min(this.remaining, buf.length - i);
          this.remaining -= take;
          i += take - 1;
          if (this.remaining === 0) this.state = S.DataCr;
          break;
        }
        case S.DataCr:
          if (c !== CR) return CHUNKED_MALFORMED;
          this.state = S.DataLf;
          break;
        case S.DataLf:
          if (c !== LF) return CHUNKED_MALFORMED;
          this.state = S.Size;
          break;
        case S.TrailerStart:
          if (c === CR) this.state = S.FinalLf;
          else if (c === LF) return CHUNKED_MALFORMED;
          else this.state = S.Trailer;
          break;
        case S.Trailer:
          if (c === CR) this.state = S.TrailerLf;
          else if (c === LF) return CHUNKED_MALFORMED;
          break;
        case S.TrailerLf:
          if (c !== LF) return CHUNKED_MALFORMED;
          this.state = S.TrailerStart;
          break;
        case S.FinalLf:
          if (c !== LF) return CHUNKED_MALFORMED;
          return i + 1;
      }
    }
    return -1;
  }
}

function hexValue(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x61 && c <= 0x66) return c - 0x57;
  if (c >= 0x41 && c <= 0x46) return c - 0x37;
  return -1;
}
