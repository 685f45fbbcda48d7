// test/runtime/fake-driver.test: the instance-driver contract on the in-memory fake (test/helpers/
// fake-driver.ts) that scheduler tests use — so the fake behaves like the runc driver where they meet —
// plus the fake's own knobs. No root needed.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import { test } from 'node:test';
import { digestOf } from '../../src/core/digest.ts';
import { pinnedReference } from '../../src/core/names.ts';
import type { PinnedImage } from '../../src/core/service.ts';
import { FakeDriver } from '../helpers/fake-driver.ts';
import { driverContract, type Step } from './driver-contract.ts';

const image = (repository: string): PinnedImage => ({ repository, digest: digestOf(randomBytes(16)) });

function stepOf(s: Step): string {
  if ('out' in s) return `out:${s.out}`;
  if ('err' in s) return `err:${s.err}`;
  if ('sleepMs' in s) return `sleep:${s.sleepMs}`;
  if ('exit' in s) return `exit:${s.exit}`;
  if ('write' in s) return `write:${s.write}=${s.text}`;
  if ('cat' in s) return `cat:${s.cat}`;
  return s.until === 'stopped' ? 'run' : 'ignore-stop';
}

function fixture() {
  const driver = new FakeDriver();
  driver.memoryBytes = 4 << 20;
  const missingImage = image('fake/missing');
  driver.missingImages.add(pinnedReference(missingImage));
  const server = image('fake/server');
  return {
    driver,
    reopen: async () => driver.reopen(),
    server,
    envPath: '/env',
    freshImage: async () => image('fake/fresh'),
    missingImage,
    program: (steps: Step[]) => ({ image: server, command: ['fake', ...steps.map(stepOf)] }),
    missingCommand: { image: server, command: ['/no/such/binary'] },
    idPrefix: `fake-${randomBytes(3).toString('hex')}`,
    volume: async () => {
      const name = `vol-${randomBytes(3).toString('hex')}`;
      driver.createVolume(name);
      return name;
    },
  };
}

const shared = fixture();
driverContract(async () => shared);

const spec = (f: ReturnType<typeof fixture>, revision: string) => ({
  image: f.server, service: 'svc', revision, port: 8080, env: {}, readOnlyRoot: false, limits: { memoryBytes: 1 << 20, cpus: 1, pids: 10 },
});

function get(port: number, path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    http.get({ host: '127.0.0.1', port, path, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (c: string) => (body += c)).on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    }).on('error', reject);
  });
}

test('fake knobs: counters, countOf, unhealthy starts, crash, failStarts, ignoreStopSignal', async (t) => {
  const f = fixture();
  const d = f.driver;
  t.after(async () => {
    for (const i of await d.list()) await d.delete(i.id);
  });
  await d.create('rev-1-aaaaaa', spec(f, 'rev-1'));
  await d.create('rev-1-bbbbbb', spec(f, 'rev-1'));
  assert.equal(d.created, 2);
  assert.equal(d.countOf('rev-1'), 0, 'created, not started');
  d.unhealthyStarts = 1;
  const a = await d.start('rev-1-aaaaaa');
  const b = await d.start('rev-1-bbbbbb');
  assert.equal(d.started, 2);
  assert.equal(d.countOf('rev-1'), 2);
  assert.equal((await get(a.port, '/healthz')).status, 500);
  assert.equal((await get(b.port, '/healthz')).status, 200);
  assert.deepEqual(await get(b.port, '/'), { status: 200, body: 'rev-1 rev-1-bbbbbb' });

  const watched = d.watch('rev-1-aaaaaa');
  d.crash('rev-1-aaaaaa');
  assert.deepEqual(await watched, { reason: 'exited', exitCode: 1 });
  assert.equal(d.countOf('rev-1'), 1);
  assert.equal(d.live.get('rev-1-aaaaaa')?.status, 'stopped', 'kept until delete');
  await d.delete('rev-1-aaaaaa');
  assert.equal(d.live.has('rev-1-aaaaaa'), false);

  d.ignoreStopSignal = true;
  const t0 = Date.now();
  await d.stop('rev-1-bbbbbb', 300);
  assert.ok(Date.now() - t0 >= 280);
  assert.deepEqual(await d.watch('rev-1-bbbbbb'), { reason: 'signalled', signal: 9 });

  d.failStarts = true;
  await assert.rejects(d.create('rev-1-cccccc', spec(f, 'rev-1')), { code: 'INTERNAL' });
  assert.equal(d.live.has('rev-1-cccccc'), false);
});
