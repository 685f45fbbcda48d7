// test/helpers/images: a busybox-httpd image written in-process (no podman needed) and pushed to a test
// registry: /bin/busybox from Debian's busybox-static, /www/index.html, and CGI scripts
// /cgi-bin/slow (sleeps, then prints the instance hostname) and /cgi-bin/host.
import { readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { tarOf } from '../images/fixtures.ts';
import { CONFIG_TYPE, LAYER_TYPE, imageManifest, pushBlob, putManifest, type RegistryTarget } from './oci.ts';
import { digestOf } from '../../src/core/digest.ts';

export interface HttpdImage {
  reference: string;
  digest: string;
}

/** Pushes the busybox-httpd image as `repo:tag`; `marker` lands in index.html so revisions differ. */
export async function pushHttpdImage(reg: RegistryTarget, repo: string, tag: string, marker = tag): Promise<HttpdImage> {
  const busybox = readFileSync('/bin/busybox');
  const cgi = (body: string) => `#!/bin/sh\n${body}\n`;
  const layer = await tarOf([
    { name: 'bin/', type: 'directory', mode: 0o755 },
    { name: 'bin/busybox', mode: 0o755, body: busybox },
    { name: 'bin/sh', type: 'symlink', mode: 0o777, linkname: 'busybox' },
    { name: 'bin/sleep', type: 'symlink', mode: 0o777, linkname: 'busybox' },
    { name: 'bin/hostname', type: 'symlink', mode: 0o777, linkname: 'busybox' },
    { name: 'etc/', type: 'directory', mode: 0o755 },
    { name: 'etc/passwd', mode: 0o644, body: 'root:x:0:0:root:/root:/bin/sh\nwww:x:1000:1000:www:/www:/bin/sh\n' },
    { name: 'etc/group', mode: 0o644, body: 'root:x:0:\nwww:x:1000:\n' },
    { name: 'tmp/', type: 'directory', mode: 0o1777 },
    { name: 'www/', type: 'directory', mode: 0o755 },
    { name: 'www/index.html', mode: 0o644, body: `hello from ${marker}\n` },
    { name: 'www/cgi-bin/', type: 'directory', mode: 0o755 },
    { name: 'www/cgi-bin/slow', mode: 0o755, body: cgi('sleep "${QUERY_STRING:-0.2}"\nprintf "Content-Type: text/plain\\r\\n\\r\\n"\nhostname') },
    { name: 'www/cgi-bin/host', mode: 0o755, body: cgi('printf "Content-Type: text/plain\\r\\n\\r\\n"\nhostname') },
  ]);
  const gz = gzipSync(layer);
  const config = {
    architecture: 'amd64',
    os: 'linux',
    config: { Cmd: ['/bin/busybox', 'httpd', '-f', '-p', '8080', '-h', '/www'], User: 'www', WorkingDir: '/www', Env: ['PATH=/bin'], ExposedPorts: { '8080/tcp': {} } },
    rootfs: { type: 'layers', diff_ids: [digestOf(layer)] },
  };
  const configDesc = await pushBlob(reg, repo, JSON.stringify(config), CONFIG_TYPE);
  const layerDesc = await pushBlob(reg, repo, gz, LAYER_TYPE);
  const { digest } = await putManifest(reg, repo, tag, imageManifest(configDesc, [layerDesc]));
  return { reference: `${repo}:${tag}`, digest };
}
