// gateway/forward: sends one request to one instance and streams the response back, over undici's
// keep-alive connection pools (instance-clients.ts; measured 2.4x less CPU per request than
// node:http's Agent here: docs/benchmarks.md). The request body is read only once the upstream connection is established, so
// a connection that fails before any byte went upstream is reported as 'retry' and the caller may try
// another instance with the same, still unread, body.
import type { IncomingMessage, ServerResponse, IncomingHttpHeaders, OutgoingHttpHeaders } from 'node:http';
import type { Dispatcher } from 'undici';
import type { InstanceDispatcher } from './instance-clients.ts';
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
  dispatcher: InstanceDispatcher,
  timeoutMs: number,
  extraResponseHeaders: OutgoingHttpHeaders | undefined,
  /** called when the response head is written (the first byte, for the cold-start breakdown) */
  onHead?: () => void,
  /** counts the response body bytes sent (the access log) */
  counter?: { bytes: number },
): Promise<ForwardOutcome> {
  return new Promise((resolve) => {
    const exchange = new Exchange(res, extraResponseHeaders, resolve, timeoutMs, onHead, counter);
    // No body unless the client announced one: undici then sends no Transfer-Encoding either.
    const hasBody = req.headers['content-length'] !== undefined || req.headers['transfer-encoding'] !== undefined;
    dispatcher.dispatch(
      { origin: `http://${endpoint.host}:${endpoint.port}`, method: req.method ?? 'GET', path, headers: headers as Record<string, string | string[]>, body: hasBody ? req : null },
      exchange,
    );
  });
}

/** One request/response exchange, as undici's handler (methods, not per-request closures). */
class Exchange implements Dispatcher.DispatchHandler {
  private controller: Dispatcher.DispatchController | undefined;
  private settled = false;
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly res: ServerResponse,
    private readonly extra: OutgoingHttpHeaders | undefined,
    private readonly resolve: (o: ForwardOutcome) => void,
    timeoutMs: number,
    private readonly onHead: (() => void) | undefined,
    private readonly counter: { bytes: number } | undefined,
  ) {
    this.timer = setTimeout(onTimeout, timeoutMs, this);
    res.once('close', () => {
      if (!res.writableFinished) this.stop('client-gone');
    });
  }

  /** Connected: from here on bytes may reach the instance, so a failure is no longer retryable. */
  onRequestStart(controller: Dispatcher.DispatchController): void {
    this.controller = controller;
    if (this.settled) controller.abort(new Error('request already answered'));
  }

  onResponseStart(_controller: Dispatcher.DispatchController, statusCode: number, headers: IncomingHttpHeaders, statusMessage?: string): void {
    if (this.settled) return;
    const h = stripHopByHop(headers);
    if (this.extra) Object.assign(h, this.extra);
    this.res.writeHead(statusCode, statusMessage || undefined, h);
    this.onHead?.();
    // Event streams and long polls must reach the client as they are written.
    if (String(headers['content-type'] ?? '').startsWith('text/event-stream')) this.res.flushHeaders();
  }

  onResponseData(controller: Dispatcher.DispatchController, chunk: Buffer): void {
    if (this.settled) return;
    if (this.counter) this.counter.bytes += chunk.length;
    if (this.res.write(chunk)) return;
    controller.pause();
    this.res.once('drain', () => controller.resume());
  }

  onResponseEnd(): void {
    if (this.settled) return;
    this.res.end();
    this.finish('done');
  }

  onResponseError(_controller: Dispatcher.DispatchController, err: NodeJS.ErrnoException): void {
    if (this.settled) return;
    if (!this.controller && RETRYABLE.has(err.code ?? '')) return this.finish('retry');
    if (this.res.headersSent) this.res.destroy();
    this.finish('upstream-failed');
  }

  /** Ends the exchange from our side (timeout, client gone): abort upstream, cut a started response. */
  stop(outcome: ForwardOutcome): void {
    if (this.settled) return;
    this.finish(outcome); // first: the abort below reports back through onResponseError synchronously
    this.controller?.abort(new Error(outcome));
    if (this.res.headersSent) this.res.destroy();
  }

  private finish(o: ForwardOutcome): void {
    this.settled = true;
    clearTimeout(this.timer);
    this.resolve(o);
  }
}

function onTimeout(exchange: Exchange): void {
  exchange.stop('upstream-timeout');
}
