// /metrics end to end: a daemon serving a real (runc) service takes requests through its gateway; the
// scrape is then (a) clean by Prometheus' own lint (`promtool check metrics`) and (b) scraped by a real
// Prometheus with the bearer token, whose query API must show the service's request count. Also: the
// API route needs a metrics:read token, and `metrics.listen` serves the same text without one.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startTestDaemon } from '../helpers/daemon.ts';
import { pushHttpdImage } from '../helpers/images.ts';
import { uniqueRepo } from '../helpers/oci.ts';
import { FAST, gatewayGet, until } from '../helpers/serving.ts';
import { freePort, isCI, isRoot, requireTool, run } from '../helpers/tools.ts';
import { SkiffClient } from '../../src/api/client.ts';

const skip = !isRoot && !isCI ? 'needs root (runc, overlayfs, netns)' : (requireTool('promtool', 'prometheus') ?? requireTool('prometheus', 'prometheus'));
const NAME = `mx${process.pid.toString(36)}`;
const REQUESTS = 7;

/** the value of the one sample `name{…labels}` in an exposition, summed over series that match */
function valueOf(text: string, name: string, labels: Record<string, string>): number {
  let sum = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`)) continue;
    if (Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`))) sum += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return sum;
}

test('/metrics: requests through the gateway, promtool-clean, scraped by a real Prometheus', { skip, timeout: 90_000 }, async (t) => {
  const d = await startTestDaemon(t, { settings: (s) => (s.metrics.listen = '127.0.0.1:0') });
  const client = new SkiffClient({ baseUrl: d.url, token: d.token });
  const image = await pushHttpdImage(d, uniqueRepo('metrics'), 'v1');
  await client.deploy({ name: NAME, image: image.reference, scaling: { ...FAST, max: 2 } });
  for (let i = 0; i < REQUESTS; i++) assert.equal((await gatewayGet(d.gatewayUrl, NAME)).status, 200);
  const scrape = async (token = d.token) => fetch(`${d.url}/metrics`, { headers: token ? { authorization: `Bearer ${token}` } : {} });

  const res = await scrape();
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
  const text = await res.text();

  await t.test('the scrape holds the requests, the cold start and the instances of the service', () => {
    assert.equal(valueOf(text, 'skiff_gateway_requests_total', { service: NAME, code_class: '2xx' }), REQUESTS);
    assert.equal(valueOf(text, 'skiff_gateway_request_duration_seconds_count', { service: NAME }), REQUESTS);
    assert.ok(valueOf(text, 'skiff_cold_starts_total', { service: NAME }) >= 1, 'the first request was a cold start');
    assert.ok(valueOf(text, 'skiff_cold_start_stage_seconds_count', { service: NAME, stage: 'ready' }) >= 1);
    assert.ok(valueOf(text, 'skiff_instances', { service: NAME, state: 'ready' }) >= 1);
    assert.ok(valueOf(text, 'skiff_registry_operations_total', { operation: 'manifest_put', code_class: '2xx' }) >= 1, 'the push was counted');
    // pushHttpdImage pushes each blob in one POST (a monolithic upload)
    assert.ok(valueOf(text, 'skiff_registry_received_bytes_total', { operation: 'upload_monolithic' }) > 100_000, 'blob bytes counted');
    assert.match(text, /^process_cpu_seconds_total \d/m);
    assert.doesNotMatch(text, new RegExp(`${NAME}-\\d{5}-[0-9a-f]{6}`), 'no instance id in any label');
  });

  await t.test('promtool check metrics finds nothing to say', async () => {
    const r = await run('promtool', ['check', 'metrics'], { input: text });
    assert.equal((r.stdout + r.stderr).trim(), '', 'no lint problem');
  });

  await t.test('a metrics:read token is needed on the API listener; metrics.listen needs none', async () => {
    assert.equal((await scrape('')).status, 401);
    const push = await client.createToken('metrics-push', 'push');
    assert.equal((await scrape(push.secret)).status, 403);
    // a project's deploy token: the metrics name every project's services, so it may not
    const projectDeploy = await client.createToken('metrics-project-deploy', 'deploy', 'default');
    const denied = await scrape(projectDeploy.secret);
    assert.equal(denied.status, 403);
    const deploy = await client.createToken('metrics-deploy', 'deploy', '*');
    assert.equal((await scrape(deploy.secret)).status, 200);
    const open = await fetch(d.daemon.metricsUrl!);
    assert.equal(open.status, 200);
    assert.equal(valueOf(await open.text(), 'skiff_gateway_requests_total', { service: NAME, code_class: '2xx' }), REQUESTS);
    assert.equal((await fetch(d.daemon.metricsUrl!.replace('/metrics', '/other'))).status, 404);
    // the OpenAPI document lists the route, with its text answer and the token it needs
    const doc = (await (await fetch(`${d.url}/api/openapi.json`)).json()) as { paths: Record<string, Record<string, { responses: Record<string, { content?: Record<string, unknown> }>; security?: unknown }>> };
    const op = doc.paths['/metrics']?.get;
    assert.ok(op?.responses['200']?.content?.['text/plain'], 'GET /metrics in openapi.json, answering text/plain');
    assert.notDeepEqual(op.security, [], 'not marked as needing no token');
  });

  await t.test('a real Prometheus scrapes it with the bearer token and answers the request count', async (tt) => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'skiff-prom-'));
    const api = new URL(d.url);
    const config = [
      'global: { scrape_interval: 1s, scrape_timeout: 1s, evaluation_interval: 1s }',
      'scrape_configs:',
      '  - job_name: skiff',
      '    metrics_path: /metrics',
      `    authorization: { type: Bearer, credentials: ${JSON.stringify(d.token)} }`,
      `    static_configs: [{ targets: [${JSON.stringify(api.host)}] }]`,
    ].join('\n');
    writeFileSync(path.join(dir, 'prometheus.yml'), config + '\n');
    const port = await freePort();
    const prom: ChildProcess = spawn('prometheus', ['--config.file', path.join(dir, 'prometheus.yml'), '--storage.tsdb.path', path.join(dir, 'data'), '--web.listen-address', `127.0.0.1:${port}`], { stdio: ['ignore', 'ignore', 'pipe'] });
    let log = '';
    prom.stderr!.on('data', (b: Buffer) => (log = (log + b.toString()).slice(-4000)));
    tt.after(async () => {
      if (prom.exitCode === null && prom.signalCode === null) {
        const exited = new Promise((r) => prom.once('exit', r));
        prom.kill('SIGTERM');
        await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
        if (prom.exitCode === null && prom.signalCode === null) prom.kill('SIGKILL');
      }
      rmSync(dir, { recursive: true, force: true });
    });
    const query = async (q: string): Promise<number | undefined> => {
      const r = await fetch(`http://127.0.0.1:${port}/api/v1/query?query=${encodeURIComponent(q)}`).catch(() => undefined);
      if (!r?.ok) return undefined;
      const body = (await r.json()) as { data: { result: Array<{ value: [number, string] }> } };
      const first = body.data.result[0];
      return first ? Number(first.value[1]) : undefined;
    };
    try {
      await until('Prometheus scrapes the daemon (up == 1)', async () => (await query('up{job="skiff"}')) === 1, 30_000);
      await until('the request counter in Prometheus', async () => (await query(`sum(skiff_gateway_requests_total{service="${NAME}",code_class="2xx"})`)) === REQUESTS, 15_000);
    } catch (err) {
      throw new Error(`${(err as Error).message}\nprometheus log:\n${log}`);
    }
  });
});
