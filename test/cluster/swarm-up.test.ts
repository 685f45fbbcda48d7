// test/cluster/swarm-up.test: `skiff up --driver swarm` as an operator runs it — refused at once, with
// the cause and what to do, when the nodes could not pull (a loopback listen), the engine is no engine,
// is not in a swarm, or is a worker; on a manager it prints what each node needs and serves.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, test } from 'node:test';
import { startDockerd } from '../clients/dockerd.ts';
import { useSwarmLab } from '../helpers/swarm-lab.ts';

const lab = useSwarmLab({ nodes: 2 });
const BIN = path.resolve(import.meta.dirname, '../../bin/skiff.mjs');

/** `skiff up ARGS` on a fresh data dir: its exit code and output once it exits, or, when `until`
 *  matches its output first, that output (the daemon is then stopped with SIGTERM). */
function up(args: string[], until?: RegExp): Promise<{ code: number | null; output: string }> {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'skiff-test-up-'));
  const child = spawn(process.execPath, [BIN, 'up', '--data-dir', dataDir, '--gateway', '127.0.0.1:0', '--log-level', 'warn', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  return new Promise((resolve) => {
    const onData = (b: Buffer) => {
      output += b.toString();
      if (until?.test(output)) child.kill('SIGTERM');
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('exit', (code) => {
      rmSync(dataDir, { recursive: true, force: true });
      resolve({ code, output });
    });
  });
}

describe('skiff up --driver swarm', { skip: lab.skip }, () => {
  test('refused at once, naming the cause: a loopback listen, no engine, an engine outside a swarm, a worker', async (t) => {
    const loop = await up(['--driver', 'swarm', '--listen', '127.0.0.1:0']);
    assert.notEqual(loop.code, 0);
    assert.match(loop.output, /CONFIG_INVALID: runtime\.swarm\.registry: the swarm's nodes cannot pull from 127\.0\.0\.1:0 \(loopback\)/);
    const bad = await up(['--driver', 'swarm', '--docker-host', 'docker.sock']);
    assert.match(bad.output, /CONFIG_INVALID: runtime\.swarm\.dockerHost \(--docker-host\): expected unix:\/\/\/PATH, tcp:\/\/HOST:PORT or https:\/\/HOST:PORT/);
    const at = `${lab().hostAddress}:0`;
    const none = await up(['--driver', 'swarm', '--docker-host', 'unix:///nonexistent/docker.sock', '--listen', at]);
    assert.match(none.output, /PREFLIGHT_FAILED: runtime\.driver swarm: Docker Engine at unix:\/\/\/nonexistent\/docker\.sock is unreachable/);
    const alone = await startDockerd();
    t.after(() => alone.stop());
    const single = await up(['--driver', 'swarm', '--docker-host', `unix://${alone.dir}/docker.sock`, '--listen', at]);
    assert.match(single.output, /PREFLIGHT_FAILED: .* is not in a swarm \(state inactive\): run `docker swarm init`/);
    const worker = await up(['--driver', 'swarm', '--docker-host', lab().nodes[1]!.host, '--listen', at]);
    assert.match(worker.output, /PREFLIGHT_FAILED: .* is a swarm worker: point --docker-host at a manager/);
    for (const r of [none, single, worker]) assert.notEqual(r.code, 0);
  });

  test('on a manager: says where instances run and what each node needs to pull', async () => {
    const r = await up(['--driver', 'swarm', '--docker-host', lab().manager.host, '--listen', `${lab().hostAddress}:0`], /gateway \(services\)/);
    assert.match(r.output, new RegExp(`instances: swarm through ${lab().manager.host} \\(manager ${lab().manager.name}, 2 nodes`));
    assert.match(r.output, /nodes pull images from [\d.]+:[1-9]\d*: give every node's dockerd `"insecure-registries"/);
    assert.match(r.output, /node engines: none \(runtime\.swarm\.nodeHosts\)/);
  });
});
