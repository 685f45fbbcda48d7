// docker pulling from Skiff's TLS listener (registryTls) with no insecure-registries entry: a private
// dockerd (dockerd.ts; its daemon.json is empty) refuses the registry until Skiff's CA is in its
// certs.d, then logs in and pulls; without the CA again it refuses again. dockerd has no flag for the
// certs.d directory (it is /etc/docker/certs.d, or under XDG_CONFIG_HOME only in rootless mode), so
// the CA goes to /etc/docker/certs.d/ADDRESS:PORT/ca.crt — a port unique to this run — and is removed
// after. The listener binds a non-loopback address of this machine: docker treats 127.0.0.0/8 as
// insecure whatever is configured (it skips verification there), which would prove nothing.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, rmdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { startTestDaemon } from '../helpers/daemon.ts';
import { pushHttpdImage } from '../helpers/images.ts';
import { uniqueRepo } from '../helpers/oci.ts';
import { requireTool } from '../helpers/tools.ts';
import { startDockerd } from './dockerd.ts';

const CERTS_D = '/etc/docker/certs.d';

/** An IPv4 address of this machine that is not loopback, preferring one not on a test bridge. */
function nonLoopbackAddress(): string | undefined {
  const all = Object.entries(os.networkInterfaces()).flatMap(([name, list]) => (list ?? []).filter((a) => a.family === 'IPv4' && !a.internal).map((a) => ({ name, address: a.address })));
  return (all.find((a) => !/^(sk|docker|br-|veth|podman|cni)/.test(a.name)) ?? all[0])?.address;
}

const address = nonLoopbackAddress();
const skip = requireTool('dockerd', 'docker.io') ?? requireTool('busybox', 'busybox-static') ?? (address ? undefined : 'no non-loopback IPv4 address on this machine');

test('docker logs in and pulls over the TLS listener once its CA is in certs.d, and not without it', { skip, timeout: 300_000 }, async (t) => {
  const d = await startTestDaemon(t, { settings: (s) => void (s.registryTls = `${address}:0`) });
  const registry = new URL(d.daemon.registryTlsUrl!).host;
  assert.equal(registry.split(':')[0], address);
  // pushed over the plain listener, as the CLI on the daemon's machine does
  const repo = uniqueRepo('tls-pull');
  const image = await pushHttpdImage(d, repo, 'v1');

  const dockerd = await startDockerd();
  t.after(() => dockerd.stop());
  const certDir = path.join(CERTS_D, registry);
  const madeCertsD = !existsSync(CERTS_D);
  t.after(() => {
    rmSync(certDir, { recursive: true, force: true });
    // only if this test made it and nothing else is in it now
    if (madeCertsD) {
      try {
        rmdirSync(CERTS_D);
      } catch {
        // not empty: another run's directory is there
      }
    }
  });
  assert.ok(!existsSync(certDir), `${certDir} is this run's own`);
  const login = () => dockerd.docker(['login', registry, '-u', 'skiff', '--password-stdin'], { input: d.token });
  const reference = `${registry}/${repo}:v1`;
  const x509Refusal = /x509|certificate signed by unknown authority|tls: failed to verify/i;

  await t.test('without the CA: docker refuses the registry (no insecure-registries entry)', async () => {
    await assert.rejects(login(), x509Refusal);
    await assert.rejects(dockerd.docker(['pull', reference]), x509Refusal);
  });

  await t.test('with `skiff ca` in certs.d: login and pull over TLS', async () => {
    mkdirSync(certDir, { recursive: true });
    writeFileSync(path.join(certDir, 'ca.crt'), readFileSync(d.daemon.caFile!, 'utf8'));
    await login();
    await dockerd.docker(['pull', reference]);
    const digests = (await dockerd.docker(['image', 'inspect', '--format', '{{json .RepoDigests}}', reference])).stdout;
    assert.ok((JSON.parse(digests) as string[]).includes(`${registry}/${repo}@${image.digest}`), digests);
  });

  await t.test('the CA removed again: the pull is refused', async () => {
    rmSync(certDir, { recursive: true, force: true });
    await dockerd.docker(['rmi', '-f', reference]);
    await assert.rejects(dockerd.docker(['pull', reference]), x509Refusal);
  });
});
