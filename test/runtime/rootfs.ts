// test/runtime/rootfs: a hand-made busybox root filesystem for runtime tests (the images module builds
// real ones): /bin/busybox plus one symlink per applet, a non-root user `app` (1000:1000), a web root.
import { copyFileSync, existsSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import path from 'node:path';

const BUSYBOX = '/bin/busybox';

export function makeBusyboxRootfs(dir: string): string {
  if (!existsSync(BUSYBOX)) throw new Error(`${BUSYBOX} missing: install the Debian package busybox-static`);
  for (const d of ['bin', 'etc', 'tmp', 'proc', 'dev', 'sys', 'mnt', 'www']) mkdirSync(path.join(dir, d), { recursive: true });
  copyFileSync(BUSYBOX, path.join(dir, 'bin/busybox'));
  const applets = execFileSync(BUSYBOX, ['--list'], { encoding: 'utf8' }).split('\n').filter((a) => a !== '' && a !== 'busybox');
  for (const a of applets) symlinkSync('busybox', path.join(dir, 'bin', a));
  writeFileSync(path.join(dir, 'etc/passwd'), 'root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000:app:/tmp:/bin/sh\n');
  writeFileSync(path.join(dir, 'etc/group'), 'root:x:0:\napp:x:1000:\n');
  writeFileSync(path.join(dir, 'www/index.html'), 'hello from skiff\n');
  return dir;
}
