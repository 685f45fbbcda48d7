// scheduler/probes: the network side of health: TCP connect and HTTP GET probes, and reading one gauge
// from an app's Prometheus text endpoint. Each call is bounded by its timeout and never throws.
import net from 'node:net';
import http from 'node:http';
import type { InstanceAddress, MetricScrapePort, ProbeOutcome, ProbePort } from './ports.ts';

export const netProbes: ProbePort = {
  check(address, path, timeoutMs) {
    return path === undefined ? tcpProbe(address, timeoutMs) : httpProbe(address, path, timeoutMs);
  },
};

function tcpProbe(address: InstanceAddress, timeoutMs: number): Promise<ProbeOutcome> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: address.host, port: address.port, timeout: timeoutMs });
    const done = (o: ProbeOutcome) => {
      socket.destroy();
      resolve(o);
    };
    socket.once('connect', () => done('ready'));
    socket.once('error', () => done('not-ready'));
    socket.once('timeout', () => done('not-ready'));
  });
}

function httpGet(address: InstanceAddress, path: string, timeoutMs: number): Promise<{ status: number; body: string } | undefined> {
  return new Promise((resolve) => {
    const req = http.get({ host: address.host, port: address.port, path, timeout: timeoutMs, agent: false, headers: { 'user-agent': 'skiff-probe' } }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => {
        if (body.length < 1_000_000) body += c;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      res.on('error', () => resolve(undefined));
    });
    req.once('error', () => resolve(undefined));
    req.once('timeout', () => {
      req.destroy();
      resolve(undefined);
    });
  });
}

async function httpProbe(address: InstanceAddress, path: string, timeoutMs: number): Promise<ProbeOutcome> {
  const r = await httpGet(address, path, timeoutMs);
  return r && r.status >= 200 && r.status < 400 ? 'ready' : 'not-ready';
}

/** Sums every sample of `metric` (all label sets) in a Prometheus text exposition. */
export function readGauge(text: string, metric: string): number | undefined {
  let total: number | undefined;
  for (const line of text.split('\n')) {
    if (line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})?\s+(\S+)/.exec(line);
    if (!m || m[1] !== metric) continue;
    const v = Number(m[3]);
    if (Number.isFinite(v)) total = (total ?? 0) + v;
  }
  return total;
}

export const promScrape: MetricScrapePort = {
  async scrape(address, path, metric) {
    const r = await httpGet(address, path, 1000);
    return r && r.status === 200 ? readGauge(r.body, metric) : undefined;
  },
};
