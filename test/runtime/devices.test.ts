// test/runtime/devices: host devices and CDI devices (runtime/devices/). Pure parts first — device
// flags, the CDI spec parser and its validation, device selection (`--gpu N`, `=all`), the OCI edits —
// then real runc instances (root): a block device (a loop device over a temp file, passed as a node the
// test makes with mknod at a temp path) read and written from inside, what is not passed absent and
// denied by the devices cgroup, `:r` refusing writes, and a CDI spec in a temp dir (two "GPUs" that
// are such nodes, env, a mount and a createRuntime hook) applied inside the instance. No GPU here:
// nothing below ran on a real GPU (docs/runtime.md says so).
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { SkiffError } from '../../src/core/errors.ts';
import { parseDeviceRequest, parseDeviceRequests, deviceRequestText } from '../../src/core/devices.ts';
import type { InstanceDriver, InstanceSpec } from '../../src/core/instance.ts';
import type { PinnedImage } from '../../src/core/service.ts';
import { cdiRegistry, loadCdiSpecs, parseCdiSpec, validateCdiSpec } from '../../src/runtime/devices/cdi.ts';
import { allowedBy, applyDeviceEdits, cdiMount, globRegExp, majorMinor, resolveDevices, selectCdiDevices, type DeviceEdits } from '../../src/runtime/devices/devices.ts';
import { buildOciConfig } from '../../src/runtime/runc/bundle.ts';
import { createRuncDriver } from '../../src/runtime/runc/factory.ts';
import { collect } from '../helpers/collect.ts';
import { requireTool } from '../helpers/tools.ts';
import { HTTPD_PROCESS, MemoryImages, busyboxLayer } from './memory-images.ts';
import { removeTestNetwork, runId, sweepDeadRuns, testNetwork } from './test-network.ts';

const refused = (code: string, re: RegExp) => (err: unknown) => err instanceof SkiffError && err.code === code && re.test(err.message);

describe('device flags', () => {
  test('host paths with an optional path inside and access; CDI names; everything else refused', () => {
    assert.deepEqual(parseDeviceRequest('/dev/fuse', 'd'), { kind: 'host', path: '/dev/fuse', access: 'rwm' });
    assert.deepEqual(parseDeviceRequest('/dev/dri/card0:rw', 'd'), { kind: 'host', path: '/dev/dri/card0', access: 'rw' });
    assert.deepEqual(parseDeviceRequest('/tmp/x/zero:/dev/zero2:wr', 'd'), { kind: 'host', path: '/tmp/x/zero', containerPath: '/dev/zero2', access: 'rw' });
    assert.deepEqual(parseDeviceRequest('nvidia.com/gpu=0', 'd'), { kind: 'cdi', name: 'nvidia.com/gpu=0' });
    assert.deepEqual(parseDeviceRequest('vendor.com/class=all', 'd'), { kind: 'cdi', name: 'vendor.com/class=all' });
    for (const bad of ['dev/fuse', '/dev/../etc/shadow', '/dev/fuse:rx', '/dev/fuse:rr', '/dev/a:/etc/passwd', 'nvidia.com/gpu', 'gpu=0', '/a:/dev/b:r:w', '']) {
      assert.throws(() => parseDeviceRequest(bad, '--device'), refused('BAD_REQUEST', /--device/), bad);
    }
    assert.throws(() => parseDeviceRequests(['/dev/fuse', '/dev/fuse:r'], '--device'), refused('BAD_REQUEST', /given twice/));
    for (const t of ['/dev/fuse', '/dev/fuse:r', '/tmp/z:/dev/z:rw', 'nvidia.com/gpu=all']) assert.equal(deviceRequestText(parseDeviceRequest(t, 'd')), t);
  });

  test('allow-list globs: * within a segment, ** across; dev_t split', () => {
    assert.ok(allowedBy(['/dev/dri/*'], '/dev/dri/card0'));
    assert.ok(!allowedBy(['/dev/dri/*'], '/dev/dri/by-path/pci-0'));
    assert.ok(allowedBy(['/dev/dri/**'], '/dev/dri/by-path/pci-0'));
    assert.ok(allowedBy(['/dev/loop?'], '/dev/loop7') && !allowedBy(['/dev/loop?'], '/dev/loop12'));
    assert.ok(!allowedBy([], '/dev/null'));
    assert.ok(!globRegExp('/dev/a.b').test('/dev/aXb'), 'a dot is a dot');
    assert.deepEqual(majorMinor(BigInt((1 << 8) | 5)), { major: 1, minor: 5 });
    // a large minor (major 259, minor 300000): the 64-bit encoding
    const dev = (259n << 8n) | (300000n & 0xffn) | ((300000n & ~0xffn) << 12n);
    assert.deepEqual(majorMinor(dev), { major: 259, minor: 300000 });
  });
});

const SPEC = {
  cdiVersion: '0.6.0',
  kind: 'nvidia.com/gpu',
  devices: [
    { name: '1', containerEdits: { deviceNodes: [{ path: '/dev/nvidia1' }], env: ['GPU_ONE=1'] } },
    { name: '0', containerEdits: { deviceNodes: [{ path: '/dev/nvidia0', permissions: 'rw' }] } },
    { name: '10', containerEdits: { deviceNodes: [{ path: '/dev/nvidia10' }] } },
  ],
  containerEdits: {
    env: ['NVIDIA_VISIBLE_DEVICES=void'],
    deviceNodes: [{ path: '/dev/nvidiactl' }],
    mounts: [{ hostPath: '/usr/lib/libcuda.so.1', containerPath: '/usr/lib/libcuda.so.1', options: ['ro', 'nosuid', 'nodev', 'bind'] }],
    hooks: [{ hookName: 'createContainer', path: '/usr/bin/nvidia-ctk', args: ['nvidia-ctk', 'hook', 'update-ldcache'] }],
  },
};

describe('CDI specs', () => {
  test('a valid spec parses from JSON and YAML; each invalid field is named', () => {
    const spec = validateCdiSpec(structuredClone(SPEC), 'nvidia.json');
    assert.equal(spec.kind, 'nvidia.com/gpu');
    assert.equal(spec.devices.length, 3);
    const yaml = 'cdiVersion: 0.5.0\nkind: vendor.com/device\ndevices:\n  - name: a\n    containerEdits:\n      env: [A=1]\n';
    assert.equal(parseCdiSpec(yaml, 'v.yaml').devices[0]!.name, 'a');
    assert.throws(() => parseCdiSpec('{', 'x.json'), /not valid JSON/);
    const bad: Array<[(s: Record<string, unknown>) => void, RegExp]> = [
      [(s) => (s.cdiVersion = '9.9.9'), /cdiVersion/],
      [(s) => delete s.cdiVersion, /cdiVersion/],
      [(s) => (s.kind = 'gpu'), /kind: expected vendor\/class/],
      [(s) => (s.devices = []), /devices: expected a non-empty list/],
      [(s) => ((s.devices as { name: string }[])[0]!.name = 'bad name'), /devices\[0\]\.name/],
      [(s) => ((s.devices as { name: string }[])[1]!.name = '1'), /defined twice/],
      [(s) => ((s.devices as { containerEdits: unknown }[])[0]!.containerEdits = {}), /must edit something/],
      [(s) => ((s.devices as { containerEdits: { deviceNodes: unknown[] } }[])[0]!.containerEdits.deviceNodes = [{ path: 'dev/x' }]), /deviceNodes\[0\]\.path/],
      [(s) => ((s.devices as { containerEdits: { deviceNodes: unknown[] } }[])[0]!.containerEdits.deviceNodes = [{ path: '/dev/x', type: 'z' }]), /type/],
      [(s) => ((s.devices as { containerEdits: { deviceNodes: unknown[] } }[])[0]!.containerEdits.deviceNodes = [{ path: '/dev/x', permissions: 'rx' }]), /permissions/],
      [(s) => ((s.containerEdits as { env: unknown }).env = ['NOEQUALS']), /containerEdits\.env\[0\]/],
      [(s) => ((s.containerEdits as { hooks: unknown }).hooks = [{ hookName: 'prestop', path: '/x' }]), /hookName/],
      [(s) => ((s.containerEdits as { hooks: unknown }).hooks = [{ hookName: 'poststop', path: '/x', timeout: 0 }]), /timeout/],
      [(s) => ((s.containerEdits as { mounts: unknown }).mounts = [{ hostPath: '/a' }]), /mounts\[0\]\.containerPath/],
      [(s) => ((s.containerEdits as Record<string, unknown>).intelRdt = { closID: 'x' }), /intelRdt: not supported/],
    ];
    for (const [mutate, re] of bad) {
      const s = structuredClone(SPEC) as unknown as Record<string, unknown>;
      mutate(s);
      assert.throws(() => validateCdiSpec(s, 'nvidia.json'), (err: Error) => /^invalid CDI spec nvidia\.json: /.test(err.message) && re.test(err.message), String(re));
    }
  });

  test('selection: a name, =all, --gpu N in name order (numeric), unknown names listing what exists; later specs override', () => {
    const reg = cdiRegistry([validateCdiSpec(structuredClone(SPEC), 'a.json')]);
    assert.deepEqual(reg.kinds.get('nvidia.com/gpu'), ['0', '1', '10']);
    assert.deepEqual(selectCdiDevices(reg, [], 2).map((d) => d.name), ['nvidia.com/gpu=0', 'nvidia.com/gpu=1']);
    assert.deepEqual(selectCdiDevices(reg, ['nvidia.com/gpu=all'], 0).map((d) => d.name), ['nvidia.com/gpu=0', 'nvidia.com/gpu=1', 'nvidia.com/gpu=10']);
    assert.deepEqual(selectCdiDevices(reg, ['nvidia.com/gpu=10'], 1).map((d) => d.name), ['nvidia.com/gpu=10', 'nvidia.com/gpu=0']);
    assert.throws(() => selectCdiDevices(reg, ['nvidia.com/gpu=7'], 0), refused('DEVICE_REFUSED', /--device nvidia\.com\/gpu=7: no such CDI device \(CDI devices on this node: nvidia\.com\/gpu=0, nvidia\.com\/gpu=1, nvidia\.com\/gpu=10\)/));
    assert.throws(() => selectCdiDevices(reg, ['amd.com/gpu=all'], 0), refused('DEVICE_REFUSED', /amd\.com\/gpu=all: no such CDI device/));
    assert.throws(() => selectCdiDevices(reg, [], 4), refused('DEVICE_REFUSED', /--gpu 4 \(gpus\): this node has 3 nvidia\.com\/gpu device\(s\)/));
    assert.throws(() => selectCdiDevices(cdiRegistry([], ['invalid CDI spec /etc/cdi/x.json: kind: …']), [], 1), refused('DEVICE_REFUSED', /no CDI spec defines any device.*spec files not used: invalid CDI spec \/etc\/cdi\/x\.json/));
    const override = validateCdiSpec({ cdiVersion: '0.6.0', kind: 'nvidia.com/gpu', devices: [{ name: '0', containerEdits: { env: ['FROM=run'] } }] }, '/var/run/cdi/b.json');
    const both = cdiRegistry([validateCdiSpec(structuredClone(SPEC), '/etc/cdi/a.json'), override]);
    assert.equal(both.devices.get('nvidia.com/gpu=0')!.spec.source, '/var/run/cdi/b.json');
  });

  test('OCI edits are pure: nodes, allow rules after deny-all, mounts, env over env, hooks by kind, gids', () => {
    const edits: DeviceEdits = {
      devices: [{ path: '/dev/nvidia0', type: 'c', major: 195, minor: 0 }],
      rules: [{ allow: true, type: 'c', major: 195, minor: 0, access: 'rw' }],
      mounts: [cdiMount({ hostPath: '/usr/lib/libcuda.so.1', containerPath: '/usr/lib/libcuda.so.1', options: ['ro', 'nosuid'] })],
      env: ['NVIDIA_VISIBLE_DEVICES=void', 'A=from-cdi'],
      hooks: { createContainer: [{ path: '/usr/bin/nvidia-ctk', args: ['nvidia-ctk', 'hook'] }] },
      additionalGids: [44],
    };
    const input = {
      rootfs: '/r', readOnlyRoot: false, args: ['/app'], env: ['PATH=/bin', 'A=mine'], cwd: '/', user: { uid: 0, gid: 0, additionalGids: [1] }, hostname: 'h',
      limits: { memoryBytes: 1 << 26, cpus: 1, pids: 10 }, netnsPath: '/run/netns/x', cgroupsPath: '/skiff/x',
    };
    const plain = buildOciConfig(input);
    const before = JSON.stringify(plain);
    const applied = applyDeviceEdits(plain, edits);
    assert.equal(JSON.stringify(plain), before, 'the input config is not changed');
    assert.deepEqual(buildOciConfig({ ...input, devices: edits }), applied, 'buildOciConfig applies them');
    assert.equal(plain.hooks, undefined);
    const linux = applied.linux as unknown as { devices: unknown[]; resources: { devices: unknown[] } };
    assert.deepEqual(linux.devices, edits.devices);
    assert.deepEqual(linux.resources.devices, [{ allow: false, access: 'rwm' }, ...edits.rules]);
    assert.deepEqual(applied.mounts.at(-1), { destination: '/usr/lib/libcuda.so.1', type: 'bind', source: '/usr/lib/libcuda.so.1', options: ['rbind', 'ro', 'nosuid'] });
    assert.deepEqual(applied.process.env, ['PATH=/bin', 'A=from-cdi', 'NVIDIA_VISIBLE_DEVICES=void']);
    assert.deepEqual((applied.process.user as { additionalGids: number[] }).additionalGids, [1, 44]);
    assert.deepEqual(applied.hooks, edits.hooks);
    assert.deepEqual(applyDeviceEdits(plain, undefined), plain);
  });

  test('host devices are refused outside the allow-list, when missing, or when not a device node', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'skiff-dev-unit-'));
    try {
      writeFileSync(path.join(dir, 'file'), 'x');
      const policy = { allowList: [`${dir}/*`], cdiDirs: [path.join(dir, 'cdi')] };
      await assert.rejects(resolveDevices(parseDeviceRequests(['/dev/null'], 'devices'), 0, policy), refused('DEVICE_REFUSED', /--device \/dev\/null \(devices\[0\]\): \/dev\/null is not in this node's device allow-list \(runtime\.deviceAllowList: /));
      await assert.rejects(resolveDevices(parseDeviceRequests(['/dev/null'], 'devices'), 0, { ...policy, allowList: [] }), refused('DEVICE_REFUSED', /runtime\.deviceAllowList, empty/));
      await assert.rejects(resolveDevices(parseDeviceRequests([`${dir}/nope`], 'devices'), 0, policy), refused('DEVICE_REFUSED', /does not exist on this node/));
      await assert.rejects(resolveDevices(parseDeviceRequests([`${dir}/file`], 'devices'), 0, policy), refused('DEVICE_REFUSED', /is not a character or block device/));
      await assert.rejects(resolveDevices([], 1, policy), refused('DEVICE_REFUSED', /--gpu 1 \(gpus\): this node has 0 nvidia\.com\/gpu device\(s\) \(no CDI spec defines any device in /));
      const ok = await resolveDevices(parseDeviceRequests(['/dev/null:/dev/mynull:r'], 'devices'), 0, { ...policy, allowList: ['/dev/null'] });
      assert.deepEqual(ok.devices, [{ path: '/dev/mynull', type: 'c', major: 1, minor: 3 }]);
      assert.deepEqual(ok.rules, [{ allow: true, type: 'c', major: 1, minor: 3, access: 'r' }]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

const skip = requireTool('runc', 'runc') ?? requireTool('busybox', 'busybox-static') ?? requireTool('losetup', 'mount');
const NETWORK = testNetwork('g', 226);
const PREFIX = 'skiff-dev-';
const RUN = runId(PREFIX);

describe('devices in real runc instances', { skip }, () => {
  let work = '';
  let loop = '';
  const images = new MemoryImages();
  let image: PinnedImage | undefined;
  let driver: InstanceDriver | undefined;
  let disk = '';
  let nodes = '';
  let cdi = '';
  let seq = 0;

  before(async () => {
    sweepDeadRuns(PREFIX);
    work = mkdtempSync(path.join(os.tmpdir(), 'skiff-test-devices-'));
    image = images.add('test/busybox', [await busyboxLayer()], HTTPD_PROCESS);
    // a loop device over a file of the test: a block device runc's default set does not allow
    disk = path.join(work, 'disk.img');
    writeFileSync(disk, Buffer.alloc(1 << 20));
    loop = execFileSync('losetup', ['--find', '--show', disk], { encoding: 'utf8' }).trim();
    const { major, minor } = majorMinor(BigInt(statSync(loop).rdev));
    // the nodes the test passes in: made with mknod at a temp path (the same numbers as the loop device, and /dev/zero's)
    nodes = path.join(work, 'nodes');
    mkdirSync(nodes);
    execFileSync('mknod', [path.join(nodes, 'disk'), 'b', String(major), String(minor)]);
    execFileSync('mknod', [path.join(nodes, 'zero'), 'c', '1', '5']);
    cdi = path.join(work, 'cdi');
    mkdirSync(cdi);
    mkdirSync(path.join(work, 'lib'));
    writeFileSync(path.join(work, 'lib', 'libfake.so'), 'fake driver library\n');
    writeFileSync(path.join(cdi, 'fake-gpu.yaml'), [
      'cdiVersion: 0.6.0',
      'kind: nvidia.com/gpu',
      'containerEdits:',
      '  env: [NVIDIA_VISIBLE_DEVICES=void, CDI_SPEC_LEVEL=yes]',
      `  mounts: [{ hostPath: ${path.join(work, 'lib')}, containerPath: /usr/local/fake-driver, options: [ro, nosuid, nodev, bind] }]`,
      `  hooks: [{ hookName: createRuntime, path: /bin/sh, args: [sh, -c, 'cat > ${path.join(work, 'hook-state.json')}'] }]`,
      'devices:',
      `  - name: "1"`,
      `    containerEdits: { deviceNodes: [{ path: /dev/gpu1, hostPath: ${path.join(nodes, 'zero')} }], env: [GPU1=here] }`,
      `  - name: "0"`,
      `    containerEdits: { deviceNodes: [{ path: /dev/gpu0, hostPath: ${path.join(nodes, 'disk')}, permissions: rw }], env: [GPU0=here] }`,
      '',
    ].join('\n'));
    driver = createRuncDriver({ dataDir: path.join(work, 'data'), images, network: NETWORK, devices: { allowList: [`${nodes}/*`], cdiDirs: [path.join(work, 'no-such-dir'), cdi] } });
  });

  after(async () => {
    if (!work) return;
    try {
      if (driver) for (const i of await driver.list()) await driver.delete(i.id);
    } finally {
      const runcRoot = path.join(work, 'data/runtime/runc');
      for (const id of existsSync(runcRoot) ? readdirSync(runcRoot) : []) execFileSync('runc', ['--root', runcRoot, 'delete', '--force', id], { stdio: 'ignore' });
      if (loop) execFileSync('losetup', ['-d', loop], { stdio: 'ignore' });
      rmSync(work, { recursive: true, force: true });
      await removeTestNetwork(NETWORK);
    }
  });

  /** Runs `script` in a new instance to its exit; its output lines. */
  async function inInstance(t: { after(fn: () => Promise<void>): void }, script: string, over: Partial<InstanceSpec> = {}): Promise<string> {
    assert.ok(driver && image, 'fixture was not set up');
    const d = driver;
    const id = `${RUN}-${++seq}`;
    t.after(() => d.delete(id));
    await d.create(id, { image, service: 'svc-dev', revision: 'svc-dev-00001', env: {}, readOnlyRoot: false, limits: { memoryBytes: 64 << 20, cpus: 0.5, pids: 64 }, command: ['/bin/sh', '-c', script], ...over });
    await d.start(id);
    await d.watch(id);
    let lines = await collect(d.logs(id));
    for (let i = 0; i < 40 && lines.length === 0; i++, lines = await collect(d.logs(id))) await new Promise((r) => setTimeout(r, 25));
    return lines.map((l) => l.line).join('\n');
  }

  test('a passed block device is read and written from inside (the bytes reach the host file); others are absent and denied by the cgroup', async (t) => {
    const numbers = () => {
      const { major, minor } = majorMinor(BigInt(statSync(loop).rdev));
      return `${major} ${minor}`;
    };
    const out = await inInstance(t, [
      'printf skiff-was-here > /dev/skiffdisk && echo write=ok || echo write=failed',
      'echo read=$(head -c 14 /dev/skiffdisk)',
      'ls -l /dev/skiffdisk | cut -c1',
      '[ -e /dev/gpu0 ] && echo gpu0=present || echo gpu0=absent',
    ].join('; '), { devices: parseDeviceRequests([`${nodes}/disk:/dev/skiffdisk:rw`], 'devices') });
    assert.match(out, /write=ok/, out);
    assert.match(out, /read=skiff-was-here/, out);
    assert.match(out, /^b$/m, `a block device node inside: ${out}`);
    assert.match(out, /gpu0=absent/, out);
    // the write went through the loop device into the host's file
    execFileSync('blockdev', ['--flushbufs', loop]);
    assert.equal(readFileSync(disk).subarray(0, 14).toString(), 'skiff-was-here');

    // not passed: no node, and one made inside with mknod (CAP_MKNOD is in the default set) is denied by the devices cgroup
    const denied = await inInstance(t, `[ -e /dev/skiffdisk ] && echo present || echo absent; mknod /dev/probe b ${numbers()} && (head -c 1 /dev/probe >/dev/null 2>&1 && echo open=ok || echo open=denied)`);
    assert.match(denied, /^absent$/m, denied);
    assert.match(denied, /open=denied/, denied);

    // :r — reads work, writes are refused by the cgroup rule
    const readOnly = await inInstance(t, 'echo read=$(head -c 14 /dev/skiffdisk); (printf x > /dev/skiffdisk) 2>/dev/null && echo write=ok || echo write=denied', { devices: parseDeviceRequests([`${nodes}/disk:/dev/skiffdisk:r`], 'devices') });
    assert.match(readOnly, /read=skiff-was-here/, readOnly);
    assert.match(readOnly, /write=denied/, readOnly);
  });

  test('refused at create: outside the allow-list, missing, not a device — nothing is left', async (t) => {
    assert.ok(driver && image);
    for (const [dev, re] of [['/dev/null', /not in this node's device allow-list/], [`${nodes}/nope`, /does not exist/], [`${work}/disk.img`, /not in this node's device allow-list/]] as const) {
      const id = `${RUN}-${++seq}`;
      t.after(() => driver!.delete(id));
      await assert.rejects(driver.create(id, { image, service: 'svc-dev', revision: 'svc-dev-00001', env: {}, readOnlyRoot: false, limits: { memoryBytes: 64 << 20, cpus: 0.5, pids: 64 }, devices: parseDeviceRequests([dev], 'devices') }), refused('DEVICE_REFUSED', re));
      assert.equal(await driver.inspect(id), undefined);
    }
  });

  test('CDI: --gpu 1 takes device "0" (name order) with the spec\'s env, mount and hook; =all takes both; an unknown name lists the devices', async (t) => {
    const hookFile = path.join(work, 'hook-state.json');
    const one = await inInstance(t, [
      'echo env=$NVIDIA_VISIBLE_DEVICES,$CDI_SPEC_LEVEL,${GPU0:-no},${GPU1:-no}',
      '[ -b /dev/gpu0 ] && echo gpu0=block || echo gpu0=absent',
      '[ -e /dev/gpu1 ] && echo gpu1=present || echo gpu1=absent',
      'echo read=$(head -c 14 /dev/gpu0)',
      'cat /usr/local/fake-driver/libfake.so',
      '(echo x > /usr/local/fake-driver/new) 2>/dev/null && echo mount=rw || echo mount=ro',
    ].join('; '), { gpus: 1 });
    assert.match(one, /env=void,yes,here,no/, one);
    assert.match(one, /gpu0=block/, one);
    assert.match(one, /gpu1=absent/, one);
    assert.match(one, /read=skiff-was-here/, one);
    assert.match(one, /fake driver library/, one);
    assert.match(one, /mount=ro/, one);
    // the createRuntime hook ran on the host with the container's state on stdin
    assert.ok(existsSync(hookFile), 'the createRuntime hook ran');
    assert.match(readFileSync(hookFile, 'utf8'), /"id":"skiff-dev-/);

    const all = await inInstance(t, 'echo ${GPU0:-no},${GPU1:-no}; head -c 4 /dev/gpu1 | od -An -tx1; [ -c /dev/gpu1 ] && echo gpu1=char', { devices: parseDeviceRequests(['nvidia.com/gpu=all'], 'devices') });
    assert.match(all, /here,here/, all);
    assert.match(all, /00 00 00 00/, all);
    assert.match(all, /gpu1=char/, all);

    assert.ok(driver && image);
    const id = `${RUN}-${++seq}`;
    t.after(() => driver!.delete(id));
    await assert.rejects(
      driver.create(id, { image, service: 'svc-dev', revision: 'svc-dev-00001', env: {}, readOnlyRoot: false, limits: { memoryBytes: 64 << 20, cpus: 0.5, pids: 64 }, devices: parseDeviceRequests(['nvidia.com/gpu=7'], 'devices') }),
      refused('DEVICE_REFUSED', /nvidia\.com\/gpu=7: no such CDI device \(CDI devices on this node: nvidia\.com\/gpu=0, nvidia\.com\/gpu=1\)/),
    );
    assert.deepEqual((await loadCdiSpecs([cdi])).errors, []);
  });
});

describe('devices at deploy (daemon, CLI)', () => {
  test('refused before anything is stored, naming the flag and the device; bad values are BAD_REQUEST', async (t) => {
    const { startTestDaemon } = await import('../helpers/daemon.ts');
    const { skiff } = await import('../helpers/cli.ts');
    const cdiDir = mkdtempSync(path.join(os.tmpdir(), 'skiff-cdi-empty-'));
    t.after(() => rmSync(cdiDir, { recursive: true, force: true }));
    const d = await startTestDaemon(t, { settings: (s) => Object.assign(s.runtime, { deviceAllowList: ['/dev/dri/*'], cdiSpecDirs: [cdiDir] }) });
    const deploy = (...flags: string[]) => skiff(d, ['deploy', 'gpu-app', '--image', 'team/app:v1', ...flags]);
    const notAllowed = await deploy('--device', '/dev/null');
    assert.equal(notAllowed.code, 1);
    assert.match(notAllowed.stderr, /error DEVICE_REFUSED: --device \/dev\/null \(devices\[0\]\): \/dev\/null is not in this node's device allow-list \(runtime\.deviceAllowList: \/dev\/dri\/\*\)/);
    const noGpu = await deploy('--gpu', '1');
    assert.match(noGpu.stderr, /error DEVICE_REFUSED: --gpu 1 \(gpus\): this node has 0 nvidia\.com\/gpu device\(s\) \(no CDI spec defines any device in /);
    const unknown = await deploy('--device', 'nvidia.com/gpu=0');
    assert.match(unknown.stderr, /error DEVICE_REFUSED: --device nvidia\.com\/gpu=0: no such CDI device/);
    const bad = await deploy('--device', '/dev/fuse:rx');
    assert.match(bad.stderr, /error BAD_REQUEST: --device\[0\]: device access must be letters of rwm/);
    const contradict = await deploy('--cpu-always', '--cpu-throttling');
    assert.match(contradict.stderr, /error USAGE: --cpu-always and --cpu-throttling contradict/);
    const res = await fetch(`${d.url}/api/v1/services`, { method: 'POST', headers: { authorization: `Bearer ${d.token}`, 'content-type': 'application/json' }, body: JSON.stringify({ name: 'gpu-app', image: 'team/app:v1', devices: ['dev/null'] }) });
    assert.equal(res.status, 400);
    assert.match(((await res.json()) as { error: { message: string } }).error.message, /devices\[0\]: "dev\/null" is neither a host device/);
    const neg = await fetch(`${d.url}/api/v1/services`, { method: 'POST', headers: { authorization: `Bearer ${d.token}`, 'content-type': 'application/json' }, body: JSON.stringify({ name: 'gpu-app', image: 'team/app:v1', gpus: -1 }) });
    assert.equal(neg.status, 400);
    assert.equal((await fetch(`${d.url}/api/v1/services/gpu-app`, { headers: { authorization: `Bearer ${d.token}` } })).status, 404, 'nothing was stored');
  });
});
