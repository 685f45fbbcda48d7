// bench/trace-context: what W3C trace-context propagation adds to a fast-path request with tracing off
// — in isolation, because end-to-end req/s on a shared 2-core machine moves by more than the few
// hundred nanoseconds at stake. Per iteration: parse a typical browser-like request head and build the
// upstream head, (a) without a traceparent line (as before tracing existed), (b) adding a new trace's
// traceparent (the client sent none), (c) the client sent one: parsed, kept, new parent id.
// Prints ns per request for each and the difference against the gateway's measured CPU per request.
//   node bin/run-ts.mjs bench/trace-context.ts [--iterations 2000000] [--cpu-us 28]
import { parseArgs } from 'node:util';
import { parseRequestHead, upstreamRequestHead } from '../src/gateway/http1.ts';
import { parseTraceparent, propagatedTraceparent } from '../src/gateway/trace-context.ts';

const { values } = parseArgs({ options: { iterations: { type: 'string', default: '2000000' }, 'cpu-us': { type: 'string', default: '28' } } });
const N = Number(values.iterations);
const cpuUs = Number(values['cpu-us']);

const base = 'GET /api/items?page=2 HTTP/1.1\r\nHost: s.test\r\nUser-Agent: Mozilla/5.0 (X11; Linux x86_64) Gecko/20100101 Firefox/128.0\r\nAccept: application/json\r\nAccept-Language: en-GB,en;q=0.5\r\nAccept-Encoding: gzip, deflate, br\r\nConnection: keep-alive\r\nCookie: session=0123456789abcdef';
const withParent = `${base}\r\ntraceparent: 00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01`;

let sink = 0;
type Variant = { name: string; head: string; trace: (h: NonNullable<ReturnType<typeof parseRequestHead>>) => string };
function once(v: Variant, n: number): number {
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < n; i++) {
    const h = parseRequestHead(v.head)!;
    sink += upstreamRequestHead(h, '/api/items', '10.0.0.1', false, 'http', v.trace(h)).length;
  }
  return Number(process.hrtime.bigint() - t0) / n;
}
const propagate = (h: NonNullable<ReturnType<typeof parseRequestHead>>) => {
  const p = h.traceparent === undefined ? undefined : parseTraceparent(h.traceparent);
  return `traceparent: ${propagatedTraceparent(p)}\r\n`;
};
const variants: Variant[] = [
  { name: 'no traceparent line (before)', head: base, trace: () => '' },
  { name: 'new trace (client sent none)', head: base, trace: propagate },
  { name: 'same head with traceparent, no line (before)', head: withParent, trace: () => '' },
  { name: 'client traceparent kept, new parent id', head: withParent, trace: propagate },
];
// interleaved rounds (JIT warm-up and the machine's noise fall on every variant alike); the minimum per variant
const best = variants.map(() => Infinity);
for (const v of variants) once(v, N / 10);
for (let r = 0; r < 10; r++) variants.forEach((v, i) => (best[i] = Math.min(best[i]!, once(v, N / 10))));
variants.forEach((v, i) => console.log(`${v.name.padEnd(46)} ${best[i]!.toFixed(0).padStart(6)} ns/request (best of 10 x ${N / 10})`));
const created = best[1]! - best[0]!;
const kept = best[3]! - best[2]!;
console.log(`added: new trace ${created.toFixed(0)} ns, kept ${kept.toFixed(0)} ns per request = ${((created / (cpuUs * 1000)) * 100).toFixed(2)} % / ${((kept / (cpuUs * 1000)) * 100).toFixed(2)} % of ${cpuUs} µs gateway CPU per request`);
if (sink === 42) console.log('');
