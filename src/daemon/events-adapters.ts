// daemon/events-adapters: plugs the gateway, the scheduler, the serving records and the job service into
// the ports the triggers module declares. Events reach services through the gateway's own listener over loopback, so
// they take exactly the path of user traffic: held while an instance starts, concurrency limits,
// cold-start headers and metrics.
import http from 'node:http';
import https from 'node:https';
import dns from 'node:dns';
import net from 'node:net';
import { serviceHost } from '../core/names.ts';
import { INVOCATION_BODY_LIMIT } from '../core/events.ts';
import { parseCidr } from '../config/settings.ts';
import type { CallbackPort, InvokeRequest, InvokeResult, Invoker, JobsPort } from '../triggers/ports.ts';
import type { JobService } from '../serving/jobs.ts';
import type { JobRecords, TriggerRefsPort } from '../serving/ports.ts';
import type { EventsRepository } from '../core/repositories.ts';

/** hop-by-hop headers never sent on (RFC 9110 7.6.1) */
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'te', 'trailer', 'upgrade', 'host', 'content-length']);

export function gatewayInvoker(gateway: { host: string; port: number }, domain: string): Invoker & { close(): void } {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });
  const host = gateway.host === '0.0.0.0' ? '127.0.0.1' : gateway.host === '::' ? '::1' : gateway.host;
  return {
    invoke: (req: InvokeRequest) =>
      new Promise<InvokeResult>((resolve, reject) => {
        const headers: Record<string, string> = {};
        for (const [k, v] of Object.entries(req.headers)) if (!HOP_BY_HOP.has(k)) headers[k] = v;
        headers.host = serviceHost(req.service, domain);
        headers['content-length'] = String(req.body.length);
        const out = http.request({ host, port: gateway.port, method: req.method, path: req.path, headers, agent, signal: req.signal }, (res) => {
          const chunks: Buffer[] = [];
          let kept = 0;
          let truncated = false;
          res.on('data', (c: Buffer) => {
            if (kept >= INVOCATION_BODY_LIMIT) return void (truncated = true);
            const part = c.subarray(0, INVOCATION_BODY_LIMIT - kept);
            if (part.length < c.length) truncated = true;
            chunks.push(part);
            kept += part.length;
          });
          res.on('end', () => {
            const h: Record<string, string> = {};
            for (const [k, v] of Object.entries(res.headers)) if (v !== undefined && !HOP_BY_HOP.has(k)) h[k] = Array.isArray(v) ? v.join(', ') : v;
            resolve({ status: res.statusCode ?? 0, headers: h, body: Buffer.concat(chunks), truncated });
          });
          res.on('error', reject);
        });
        out.on('error', reject);
        out.end(req.body);
      }),
    close: () => agent.destroy(),
  };
}

/** Addresses a callback may not reach unless the operator lists them (events.callbackNetworks). */
function internalAddresses(): net.BlockList {
  const b = new net.BlockList();
  for (const [a, p] of [['0.0.0.0', 8], ['10.0.0.0', 8], ['100.64.0.0', 10], ['127.0.0.0', 8], ['169.254.0.0', 16], ['172.16.0.0', 12], ['192.168.0.0', 16], ['224.0.0.0', 4], ['240.0.0.0', 4]] as const) b.addSubnet(a, p, 'ipv4');
  for (const [a, p] of [['::', 128], ['::1', 128], ['fc00::', 7], ['fe80::', 10], ['ff00::', 8], ['::ffff:0:0', 96]] as const) b.addSubnet(a, p, 'ipv6');
  return b;
}

/** POSTs an invocation's view as JSON, once, within 10 s. The address is checked as it is connected
 *  to (the lookup hook), so a name that resolves elsewhere between a check and the connect cannot
 *  slip past. */
export function callbackPoster(allowedCidrs: readonly string[]): CallbackPort {
  const internal = internalAddresses();
  const allowed = new net.BlockList();
  for (const c of allowedCidrs) {
    const { address, prefix, family } = parseCidr(c, 'events.callbackNetworks');
    allowed.addSubnet(address, prefix, family);
  }
  const permitted = (address: string) => {
    const family = net.isIP(address) === 6 ? 'ipv6' : 'ipv4';
    return allowed.check(address, family) || !internal.check(address, family);
  };
  const lookup: net.LookupFunction = (hostname, options, callback) => {
    dns.lookup(hostname, { ...options, all: false }, (err, address, family) => {
      if (err) return callback(err, '', 0);
      if (!permitted(address as string)) return callback(Object.assign(new Error(`the callback address ${address as string} is internal (allow it with events.callbackNetworks)`), { code: 'ECALLBACKREFUSED' }), '', 0);
      callback(null, address as string, family);
    });
  };
  return {
    post: (url, body) =>
      new Promise<void>((resolve, reject) => {
        const u = new URL(url);
        if (net.isIP(u.hostname.replace(/^\[|\]$/g, '')) && !permitted(u.hostname.replace(/^\[|\]$/g, ''))) {
          return reject(new Error(`the callback address ${u.hostname} is internal (allow it with events.callbackNetworks)`));
        }
        const data = Buffer.from(JSON.stringify(body));
        const lib = u.protocol === 'https:' ? https : http;
        const req = lib.request(u, { method: 'POST', headers: { 'content-type': 'application/json', 'content-length': data.length }, lookup, timeout: 10_000 }, (res) => {
          res.resume();
          res.on('end', () => ((res.statusCode ?? 0) < 300 ? resolve() : reject(new Error(`the callback answered HTTP ${res.statusCode}`))));
        });
        req.on('timeout', () => req.destroy(new Error('the callback did not answer within 10 s')));
        req.on('error', reject);
        req.end(data);
      }),
  };
}

/** The triggers pointing at a service or job, from the store (serving refuses to remove those). */
export function triggerRefs(records: Pick<EventsRepository, 'listTriggers'>): TriggerRefsPort {
  return {
    triggersOf: async (target) =>
      (await records.listTriggers()).flatMap(({ trigger: t }) => (('service' in target && t.target.service === target.service) || ('job' in target && t.target.job === target.job) ? [t.name] : [])),
  };
}

/** The job service as cron triggers see it (`skiff trigger add --job`). */
export function jobsPort(jobs: Pick<JobService, 'run' | 'running' | 'ended' | 'cancel'>, records: Pick<JobRecords, 'getJob'>): JobsPort {
  return {
    tenantOf: async (name) => (await records.getJob(name))?.tenant,
    run: (name) => jobs.run(name),
    running: async (name) => jobs.running(name),
    ended: async (name, id) => {
      const e = await jobs.ended(name, id);
      return e ? { status: e.status, ...(e.message !== undefined ? { message: e.message } : {}) } : { status: 'gone' };
    },
    cancel: (name, id, reason) => jobs.cancel(name, id, reason),
  };
}
