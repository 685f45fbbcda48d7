// gateway/forward: sends one request to one instance and streams the response back.
// The request body is piped only once the upstream connection is established, so a connection that
// fails before any byte went upstream is reported as 'retry' and the caller may try another instance.
import http from 'node:http';
import type { IncomingMessage, ServerResponse, OutgoingHttpHeaders } from 'node:http';
import type { Endpoint } from './ports.ts';
import { stripHopByHop } from './headers.ts';

export type ForwardOutcome = 'done' | 'retry' | 'upstream-failed' | 'upstream-timeout' | 'client-gone';

const RETRYABLE = new Set(['ECONNREFUSED', 'ECONNRESET', 'EHOSTUNREACH', 'ENETUNREACH', 'EPIPE']);

export function forward(
  req: IncomingMessage,
  res: ServerResponse,
  endpoint: Endpoint,
  path: string,
  headers: OutgoingHttpHeaders,
  agent: http.Agent,
  timeoutMs: number,
  extraResponseHeaders: OutgoingHttpHeaders | undefined,
): Promise<ForwardOutcome> {
  return new Promise((resolve) => {
    let sent = false;
    let settled = false;
    const finish = (o: ForwardOutcome) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(o);
    };
    const up = http.request({ host: endpoint.host, port: endpoint.port, method: req.method, path, headers, agent });
    const timer = setTimeout(() => {
      up.destroy();
      if (!res.headersSent) finish('upstream-timeout');
      else {
        res.destroy();
        finish('upstream-timeout');
      }
    }, timeoutMs);
    up.on('socket', (sock) => {
      const start = () => {
        sent = true;
        req.pipe(up);
      };
      if (sock.connecting) sock.once('connect', start);
      else start();
    });
    up.on('error', (err: NodeJS.ErrnoException) => {
      if (!sent && RETRYABLE.has(err.code ?? '')) return finish('retry');
      if (!res.headersSent) return finish('upstream-failed');
      res.destroy();
      finish('upstream-failed');
    });
    up.on('response', (ur) => {
      const h = stripHopByHop(ur.headers);
      if (extraResponseHeaders) Object.assign(h, extraResponseHeaders);
      res.writeHead(ur.statusCode ?? 502, ur.statusMessage, h);
      // Event streams and long polls must reach the client as they are written.
      if (String(ur.headers['content-type'] ?? '').startsWith('text/event-stream')) res.flushHeaders();
      ur.pipe(res);
      ur.on('end', () => finish('done'));
      ur.on('error', () => {
        res.destroy();
        finish('upstream-failed');
      });
    });
    res.on('close', () => {
      if (!res.writableFinished) {
        up.destroy();
        finish('client-gone');
      }
    });
  });
}
