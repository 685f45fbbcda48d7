// test/helpers/serving: talking to a test daemon's data plane and waiting on its services — one GET
// through the gateway by Host header, polling a condition, and counting a service's instances.
import http from 'node:http';
import type { SkiffClient } from '../../src/api/client.ts';

/** Knative-like short windows so scaling tests take seconds, not minutes. */
export const FAST = { window: '2s', idle: '1s', scaleToZeroGrace: '1s' };

const agent = new http.Agent({ keepAlive: true, maxSockets: 400 });

export interface GatewayResponse {
  status: number;
  body: string;
  headers: http.IncomingHttpHeaders;
}

/** GET `path` of `service` through the gateway at `gatewayUrl`, routed by Host: <service>.localhost. */
export function gatewayGet(gatewayUrl: string, service: string, path = '/'): Promise<GatewayResponse> {
  return new Promise((resolve, reject) => {
    const req = http.get(`${gatewayUrl}${path}`, { headers: { host: `${service}.localhost` }, agent }, (res) => {
      let body = '';
      res.on('data', (c) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode!, body, headers: res.headers }));
    });
    req.on('error', (err: NodeJS.ErrnoException) => {
      // A kept-alive connection the gateway closed as idle (after 5 s) just as this GET reused it:
      // the request never reached it, and a client may send an idempotent request again (RFC 9112
      // 9.3.1; Node's docs give this very retry for req.reusedSocket). Any other error is the answer.
      if (req.reusedSocket && err.code === 'ECONNRESET') gatewayGet(gatewayUrl, service, path).then(resolve, reject);
      else reject(err);
    });
  });
}

export async function until(what: string, cond: () => Promise<boolean> | boolean, timeoutMs = 20_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Instances of a service (of one revision when given), as `skiff describe` reports them. */
export async function instancesOf(client: SkiffClient, name: string, revision?: string): Promise<Array<{ id: string; phase: string }>> {
  const s = await client.service(name);
  return s.revisions.filter((r) => !revision || r.name === revision).flatMap((r) => r.instances);
}

export async function readyCount(client: SkiffClient, name: string, revision?: string): Promise<number> {
  return (await instancesOf(client, name, revision)).filter((i) => i.phase === 'ready').length;
}

/** Instances that serve or are on their way to, or stopping (pre-created ones wait in the pool for
 *  demand and run no process); 0 means scaled to zero. */
export async function runningCount(client: SkiffClient, name: string, revision?: string): Promise<number> {
  return (await instancesOf(client, name, revision)).filter((i) => i.phase !== 'pre-created').length;
}
