// bench/lib/tls-handshakes: the new-connection load of bench/tls.ts. `--connections` loops, each
// opening a TLS connection (a full handshake: no session is offered for resumption, as for a new
// visitor), sending one `GET /` with `Connection: close`, reading the response to its end and
// starting over, for `--seconds`. With --resume each loop offers the session (ticket) its last
// connection got instead: a returning visitor's abbreviated handshake (it counts how many were). wrk and h2load cannot do this: both resume their TLS sessions on a
// reconnect (wrk about every other one, h2load nearly all). Any answer but 200, or a failed
// connection, fails the run. Prints one JSON line: {"count", "rps", "p50", "p99"} (ms, connect to
// response end).
//
//   node bin/run-ts.mjs bench/lib/tls-handshakes.ts --port PORT --servername NAME [--connections 16] [--seconds 10] [--resume]
import tls from 'node:tls';
import { parseArgs } from 'node:util';
import { intFlag, pct } from './measure.ts';

const { values: args } = parseArgs({
  options: { port: { type: 'string' }, servername: { type: 'string', default: 'localhost' }, connections: { type: 'string', default: '16' }, seconds: { type: 'string', default: '10' }, resume: { type: 'boolean', default: false } },
});
const port = intFlag(args.port, '--port');
const servername = args.servername!;
const request = `GET / HTTP/1.1\r\nHost: ${servername}\r\nConnection: close\r\n\r\n`;
const end = performance.now() + intFlag(args.seconds, '--seconds') * 1000;
const latencies: number[] = [];
let resumed = 0;

/** One connection; resolves with the session to offer next time (--resume). */
function once(session: Buffer | undefined): Promise<Buffer | undefined> {
  const t0 = performance.now();
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let next: Buffer | undefined;
    const s = tls.connect({ host: '127.0.0.1', port, servername, rejectUnauthorized: false, ALPNProtocols: ['http/1.1'], session }, () => {
      if (s.isSessionReused()) resumed++;
      s.write(request);
    });
    if (args.resume) s.on('session', (b: Buffer) => (next = b));
    s.on('data', (b: Buffer) => chunks.push(b));
    s.on('error', reject);
    s.on('close', () => {
      const text = Buffer.concat(chunks).toString('latin1');
      if (!text.startsWith('HTTP/1.1 200 ')) return reject(new Error(`unexpected answer: ${text.slice(0, 200) || '(none)'}`));
      latencies.push(performance.now() - t0);
      resolve(next ?? session);
    });
  });
}

async function loop(): Promise<void> {
  let session: Buffer | undefined;
  while (performance.now() < end) session = await once(session);
}

const started = performance.now();
await Promise.all(Array.from({ length: intFlag(args.connections, '--connections') }, loop));
const seconds = (performance.now() - started) / 1000;
console.log(JSON.stringify({ count: latencies.length, rps: latencies.length / seconds, p50: pct(latencies, 50), p99: pct(latencies, 99), resumed }));
