// test/helpers/attacker-image: the image test/security runs as an attacker inside an instance:
// busybox (sh, wget, nc, dd, df, ip …) and /bin/forge (test/helpers/forge.c, compiled static here with
// gcc from build-essential), which sends forged ARP replies from a raw packet socket.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { tarOf } from '../images/fixtures.ts';
import { CONFIG_TYPE, LAYER_TYPE, imageManifest, pushBlob, putManifest, type RegistryTarget } from './oci.ts';
import { digestOf } from '../../src/core/digest.ts';

const APPLETS = ['sh', 'sleep', 'cat', 'echo', 'wget', 'nc', 'dd', 'df', 'ip', 'httpd', 'true', 'head'];

function compileForge(): Buffer {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'skiff-forge-'));
  try {
    const out = path.join(dir, 'forge');
    execFileSync('gcc', ['-static', '-O1', '-o', out, path.join(import.meta.dirname, 'forge.c')], { stdio: 'pipe' });
    return readFileSync(out);
  } catch (err) {
    throw new Error(`cannot build test/helpers/forge.c (install the Debian package build-essential): ${(err as Error).message}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Pushes the attacker image as `repo:tag`; its default process serves / on $PORT (8080). */
export async function pushAttackerImage(reg: RegistryTarget, repo: string, tag = 'v1'): Promise<string> {
  const layer = await tarOf([
    { name: 'bin/', type: 'directory', mode: 0o755 },
    { name: 'bin/busybox', mode: 0o755, body: readFileSync('/bin/busybox') },
    ...APPLETS.map((name) => ({ name: `bin/${name}`, type: 'symlink' as const, mode: 0o777, linkname: 'busybox' })),
    { name: 'bin/forge', mode: 0o755, body: compileForge() },
    { name: 'tmp/', type: 'directory', mode: 0o1777 },
    { name: 'www/', type: 'directory', mode: 0o755 },
    { name: 'www/index.html', mode: 0o644, body: 'victim\n' },
  ]);
  const config = {
    architecture: 'amd64',
    os: 'linux',
    config: { Cmd: ['/bin/busybox', 'httpd', '-f', '-p', '8080', '-h', '/www'], Env: ['PATH=/bin'], ExposedPorts: { '8080/tcp': {} } },
    rootfs: { type: 'layers', diff_ids: [digestOf(layer)] },
  };
  const configDesc = await pushBlob(reg, repo, JSON.stringify(config), CONFIG_TYPE);
  const layerDesc = await pushBlob(reg, repo, gzipSync(layer), LAYER_TYPE);
  await putManifest(reg, repo, tag, imageManifest(configDesc, [layerDesc]));
  return `${repo}:${tag}`;
}
