// test/cluster/swarm-tls.test: a swarm whose nodes have no insecure-registries entry pulls from Skiff's
// registry over TLS (--registry-tls) once each node trusts Skiff's CA (`skiff ca` into its certs.d);
// before that, a deploy fails at once with the node's certificate error.
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import { SkiffClient } from '../../src/api/client.ts';
import { skiffFails, skiffOk } from '../helpers/cli.ts';
import { startTestDaemon } from '../helpers/daemon.ts';
import { pushHttpdImage } from '../helpers/images.ts';
import { uniqueRepo } from '../helpers/oci.ts';
import { gatewayGet } from '../helpers/serving.ts';
import { useSwarmLab } from '../helpers/swarm-lab.ts';

const lab = useSwarmLab({ nodes: 2 });

describe('a swarm pulling over TLS', { skip: lab.skip }, () => {
  test('nodes that trust `skiff ca` pull over TLS; without it the deploy fails on the certificate', async (t) => {
    const l = lab();
    const d = await startTestDaemon(t, {
      settings: (s) => {
        s.listen = { host: l.hostAddress, port: 0 };
        s.registryTls = `${l.hostAddress}:0`;
        s.runtime.driver = 'swarm';
        s.runtime.swarm = { ...s.runtime.swarm, dockerHost: l.manager.host, nodeHosts: l.nodes.map((n) => `${n.name}=${n.host}`), stopGraceMs: 2000 };
      },
    });
    const tlsAddress = new URL(d.daemon.registryTlsUrl!).host;
    const img = await pushHttpdImage(d, uniqueRepo('swarm-tls'), 'v1');

    await skiffFails(d, ['deploy', 'untrusted', '--image', img.reference, '--port', '8080'], /x509|certificate/);

    const ca = await skiffOk(d, ['ca']);
    assert.match(ca, /^-----BEGIN CERTIFICATE-----/);
    for (const n of l.nodes) {
      // the node's /etc/docker (swarm-lab.ts bind-mounts <node dir>/etc-docker there)
      const dir = path.join(n.dir, 'etc-docker', 'certs.d', tlsAddress);
      mkdirSync(dir, { recursive: true });
      writeFileSync(path.join(dir, 'ca.crt'), ca);
    }
    await skiffOk(d, ['deploy', 'trusted', '--image', img.reference, '--port', '8080']);
    const r = await gatewayGet(d.gatewayUrl, 'trusted');
    assert.equal(r.status, 200, r.body);
    assert.equal(r.body, 'hello from v1\n');
    const client = new SkiffClient({ baseUrl: d.url, token: d.token });
    assert.ok((await client.service('trusted')).revisions.some((rev) => rev.instances.some((i) => i.phase === 'ready')));
  });
});
