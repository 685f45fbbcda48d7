// Broken apps fail fast with the cause (the compiled CLI against real runc instances): a deploy of an
// app that exits at once fails in seconds naming the exit code and the app's last output, requests
// to it get 503 REVISION_FAILED with that cause instead of waiting out their timeout, restarts back
// off exponentially (1 s, 2 s, 4 s …), and a broken update leaves the previous revision serving.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startTestDaemon } from '../helpers/daemon.ts';
import { pushHttpdImage } from '../helpers/images.ts';
import { uniqueRepo } from '../helpers/oci.ts';
import { isCI, isRoot } from '../helpers/tools.ts';
import { skiff } from '../helpers/cli.ts';
import { gatewayGet, until } from '../helpers/serving.ts';
import { SkiffClient } from '../../src/api/client.ts';

const skip = !isRoot && !isCI ? 'needs root (runc, overlayfs, netns)' : false;

test('an app that exits at once: deploy fails with its exit code and output, requests get the cause, restarts back off', { skip }, async (t) => {
  const d = await startTestDaemon(t);
  const client = new SkiffClient({ baseUrl: d.url, token: d.token });
  const image = await pushHttpdImage(d, uniqueRepo('crash'), 'v1');
  const dir = mkdtempSync(path.join(os.tmpdir(), 'skiff-crash-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));

  // a good first revision, then a broken update of it
  const good = await skiff(d, ['deploy', 'web', '--image', image.reference, '--timeout', '120s']);
  assert.equal(good.code, 0, good.stderr);
  writeFileSync(path.join(dir, 'broken.yaml'), `name: web\nimage: ${image.reference}\ntimeout: 120s\ncommand: ['/bin/sh', '-c', 'echo starting; echo boom >&2; exit 3']\n`);
  const broken = await skiff(d, ['deploy', '-f', path.join(dir, 'broken.yaml')]);
  assert.equal(broken.code, 1, broken.stdout);
  const message = broken.stderr.split('\n')[0]!;
  assert.match(message, /^skiff: error REVISION_FAILED: web-00002 cannot start: web-00002-\S+ exited with code 3; last output: ("starting" "boom"|"boom" "starting")\./); // stdout and stderr of one ms: either order
  assert.match(message, /Requests stay with web-00001 until it is ready/);
  const served = await gatewayGet(d.gatewayUrl, 'web');
  assert.equal(served.status, 200, 'the previous revision keeps serving');

  // a service whose only revision crashes: its requests get the cause, not a 120 s wait
  writeFileSync(path.join(dir, 'only.yaml'), `name: only\nimage: ${image.reference}\ntimeout: 120s\ncommand: ['/bin/sh', '-c', 'echo boom >&2; exit 7']\n`);
  assert.equal((await skiff(d, ['deploy', '-f', path.join(dir, 'only.yaml')])).code, 1);
  const refused = await gatewayGet(d.gatewayUrl, 'only');
  assert.equal(refused.status, 503);
  assert.match(refused.body, /"code":"REVISION_FAILED"/);
  assert.match(refused.body, /exited with code 7; last output: \\"boom\\"/);

  // restarts back off: 1 s, 2 s, 4 s …, and describe shows the loop
  await until('three back-offs', async () => (await client.service('only')).events.filter((e) => e.kind === 'back-off').length >= 3, 30_000);
  const backoffs = (await client.service('only')).events.filter((e) => e.kind === 'back-off').map((e) => /next start in (\d+)s/.exec(e.message)?.[1]);
  assert.deepEqual(backoffs.slice(0, 3), ['1', '2', '4']);
  const described = await skiff(d, ['describe', 'only']);
  assert.match(described.stdout, /crash loop: \d+ failure\(s\) in a row/);
  assert.match(described.stdout, /last: only-00001-\S+ exited with code 7/);

  // the crashed instances are gone, their output is not: skiff logs shows each one's stderr
  const logs = await skiff(d, ['logs', 'only']);
  assert.equal(logs.code, 0, logs.stderr);
  const crashed = [...logs.stdout.matchAll(/^(only-00001-[0-9a-f]{6}) \S+ stderr boom$/gm)].map((m) => m[1]!);
  assert.ok(new Set(crashed).size >= 3, `one line per crashed instance:\n${logs.stdout}`);
  const one = await skiff(d, ['logs', 'only', '--instance', crashed[0]!]);
  assert.deepEqual(one.stdout.trim().split('\n').map((l) => l.split(' ')[0]), [crashed[0]]);
  const unknown = await skiff(d, ['logs', 'only', '--instance', 'only-00001-ffffff']);
  assert.equal(unknown.code, 1);
  assert.match(unknown.stderr, /^skiff: error NOT_FOUND: instance: only has no instance "only-00001-ffffff"/);
  await new Promise((r) => setTimeout(r, 1500));
  const recent = await skiff(d, ['logs', 'only', '--since', '1s']);
  assert.ok(recent.stdout.split('\n').filter(Boolean).length < crashed.length, 'older lines are left out');

  // rm takes the kept logs with it
  assert.equal((await skiff(d, ['rm', 'only'])).code, 0);
  assert.equal((await skiff(d, ['deploy', 'only', '--image', image.reference, '--no-wait'])).code, 0);
  const fresh = await skiff(d, ['logs', 'only']);
  assert.doesNotMatch(fresh.stdout, /boom/, 'a new service of that name starts with no logs');
});

test('an app on the wrong port, or on 127.0.0.1 only: deploy fails in seconds saying where it listens', { skip }, async (t) => {
  const d = await startTestDaemon(t);
  const image = await pushHttpdImage(d, uniqueRepo('port'), 'v1');
  const dir = mkdtempSync(path.join(os.tmpdir(), 'skiff-port-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const cases: Array<[string, string, RegExp]> = [
    ['elsewhere', '3000', /is not reachable: it listens on (0\.0\.0\.0|::):3000, not on port 8080 \(the service's port\): deploy it with --port 3000/],
    ['loopback', '127.0.0.1:8080', /is not reachable: it listens on 127\.0\.0\.1:8080 only, which the gateway cannot reach: make it listen on 0\.0\.0\.0/],
  ];
  for (const [name, listen, cause] of cases) {
    writeFileSync(path.join(dir, `${name}.yaml`), `name: ${name}\nimage: ${image.reference}\ncommand: ['/bin/busybox', 'httpd', '-f', '-p', '${listen}', '-h', '/www']\n`);
    const r = await skiff(d, ['deploy', '-f', path.join(dir, `${name}.yaml`)]);
    assert.equal(r.code, 1, r.stdout);
    assert.match(r.stderr.split('\n')[0]!, /^skiff: error REVISION_FAILED: /);
    assert.match(r.stderr, cause);
  }
});
