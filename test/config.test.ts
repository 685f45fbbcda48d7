import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DEFAULT_SETTINGS, ENV_SETTINGS, loadSettings, parseHostPort } from '../src/config/settings.ts';
import { SkiffError } from '../src/core/errors.ts';

test('flags beat env, env beats the file, the file beats defaults', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'skiff-config-'));
  const file = path.join(dir, 'skiff.yaml');
  writeFileSync(file, 'listen: 127.0.0.1:6000\nlogLevel: warn\nregistry:\n  gcGraceSeconds: 10\n  uploadTtlSeconds: 5\n');
  const s = loadSettings({ file, env: { SKIFF_LOG_LEVEL: 'debug', SKIFF_REGISTRY_GC_GRACE_SECONDS: '20' }, flags: { dataDir: dir, logLevel: 'error' } });
  assert.deepEqual(s.listen, { host: '127.0.0.1', port: 6000 });
  assert.equal(s.logLevel, 'error');
  assert.equal(s.registry.gcGraceSeconds, 20);
  assert.equal(s.registry.uploadTtlSeconds, 5);
  assert.equal(s.registry.maxManifestBytes, DEFAULT_SETTINGS.registry.maxManifestBytes);
  assert.equal(s.dataDir, dir);
});

test('bad values fail with CONFIG_INVALID naming the setting', () => {
  const cases: Array<[Record<string, string>, RegExp]> = [
    [{ listen: 'nope' }, /listen/],
    [{ logLevel: 'loud' }, /logLevel/],
    [{ 'registry.gcGraceSeconds': '-1' }, /gcGraceSeconds/],
    [{ 'registry.bogus': '1' }, /unknown setting registry.bogus/],
    [{ 'runtime.egressInterfaces': 'eth0,a/b' }, /runtime.egressInterfaces: expected network interface names/],
    [{ 'runtime.egressInterfaces': 'an-interface-name-too-long' }, /runtime.egressInterfaces/],
    [{ 'runtime.driver': 'kubernetes' }, /runtime.driver: expected runc\|swarm\|hybrid/],
    [{ 'runtime.swarm.dockerHost': 'docker.sock' }, /runtime.swarm.dockerHost \(--docker-host\): expected unix:\/\/\/PATH, tcp:\/\/HOST:PORT or https:\/\/HOST:PORT/],
    [{ 'runtime.swarm.nodeHosts': 'n1=unix:///run/n1.sock,n2' }, /runtime.swarm.nodeHosts: expected HOSTNAME=/],
    [{ 'runtime.swarm.constraints': 'node.labels.pool==skiff,zone=edge' }, /runtime.swarm.constraints\[1\]: "zone=edge"/],
    [{ 'runtime.swarm.cpuReservation': '1.5' }, /runtime.swarm.cpuReservation: expected a share from 0 to 1/],
  ];
  for (const [flags, re] of cases) {
    assert.throws(() => loadSettings({ flags }), (e: unknown) => e instanceof SkiffError && e.code === 'CONFIG_INVALID' && re.test(e.message));
  }
});

test('runtime.egressInterfaces: a comma-separated list in the environment, empty by default', () => {
  assert.deepEqual(loadSettings({}).runtime.egressInterfaces, []);
  assert.deepEqual(loadSettings({ env: { SKIFF_RUNTIME_EGRESS_INTERFACES: 'eth0, bond0.12' } }).runtime.egressInterfaces, ['eth0', 'bond0.12']);
});

test('a daemon on another data dir gets network names of its own, stable, unless given', () => {
  const def = loadSettings({}).runtime;
  assert.deepEqual([def.bridge, def.subnet, def.chainPrefix], ['skiff0', '10.213.0.0/16', 'SKIFF'], 'the default data dir keeps the defaults');
  const a = loadSettings({ flags: { dataDir: '/srv/skiff-a' } }).runtime;
  const b = loadSettings({ flags: { dataDir: '/srv/skiff-b' } }).runtime;
  assert.match(a.bridge, /^sk[0-9a-f]{6}$/);
  assert.ok(a.bridge.length <= 15, 'a Linux interface name');
  assert.match(a.chainPrefix, /^SK[0-9A-F]{6}$/);
  assert.match(a.subnet, /^10\.(22[4-9]|23\d)\.\d{1,3}\.0\/24$/);
  assert.notEqual(a.bridge, b.bridge);
  assert.notEqual(a.chainPrefix, b.chainPrefix);
  assert.deepEqual(loadSettings({ flags: { dataDir: '/srv/skiff-a/' } }).runtime, a, 'the same directory, the same names');
  const given = loadSettings({ flags: { dataDir: '/srv/skiff-a' }, env: { SKIFF_RUNTIME_BRIDGE: 'mybr0' } }).runtime;
  assert.equal(given.bridge, 'mybr0');
  assert.equal(given.chainPrefix, a.chainPrefix, 'only what was given is taken as given');
});

test('host:port parsing accepts IPv6 and empty hosts', () => {
  assert.deepEqual(parseHostPort('[::1]:5000', 'x'), { host: '::1', port: 5000 });
  assert.deepEqual(parseHostPort(':8080', 'x'), { host: '0.0.0.0', port: 8080 });
  assert.throws(() => parseHostPort('1.2.3.4:70000', 'x'));
});

test('docs/configuration.md documents every environment variable', () => {
  const doc = readFileSync('docs/configuration.md', 'utf8');
  for (const [name, key] of Object.entries(ENV_SETTINGS)) {
    assert.ok(doc.includes(`\`${name}\``), `${name} missing from docs/configuration.md`);
    assert.ok(doc.includes(`\`${key}\``), `${key} missing from docs/configuration.md`);
  }
});
