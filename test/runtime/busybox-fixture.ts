// test/runtime/busybox-fixture: the driver contract's fixture (driver-fixture.ts) for drivers that run
// OCI images — runc, swarm, hybrid — with the busybox images of memory-images.ts: an httpd server image,
// test programs as busybox sh scripts, a fresh and a missing image. Each driver's test file gives how to
// build its driver and make a volume.
import type { DriverFixture, Step } from './driver-fixture.ts';
import { HTTPD_PROCESS, busyboxLayer, uniqueLayer, type MemoryImages } from './memory-images.ts';

const quote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

/** The steps as a busybox sh script. It behaves alike as PID 1 (runc) and under docker-init (swarm):
 *  'killed' ignores SIGTERM explicitly, where PID 1 would ignore it anyway. */
export function shellScript(steps: Step[]): string {
  return steps.map((s) => {
    if ('out' in s) return `echo ${quote(s.out)}`;
    if ('err' in s) return `echo ${quote(s.err)} >&2`;
    if ('sleepMs' in s) return `sleep ${s.sleepMs / 1000}`;
    if ('exit' in s) return `exit ${s.exit}`;
    if ('write' in s) return `if (echo ${quote(s.text)} > ${quote(s.write)}) 2>/dev/null; then echo wrote; else echo 'write failed'; fi`;
    if ('cat' in s) return `cat ${quote(s.cat)} 2>/dev/null || echo missing`;
    // stderr closed: the shell would report each `sleep` that the stop signal ends ("Terminated")
    const loop = 'exec 2>/dev/null; while :; do sleep 0.05; done';
    return s.until === 'stopped' ? `trap 'exit 0' TERM; ${loop}` : `trap '' TERM; ${loop}`;
  }).join('; ');
}

/** A fixture on `images`: the busybox httpd image is added to it (and returned as `server`). */
export async function busyboxFixture(images: MemoryImages, o: Pick<DriverFixture, 'driver' | 'reopen' | 'idPrefix' | 'volume'>): Promise<DriverFixture> {
  const server = images.add('test/busybox', [await busyboxLayer()], HTTPD_PROCESS);
  return {
    ...o,
    server,
    envPath: '/cgi-bin/env',
    freshImage: async () => images.add('test/fresh', [await uniqueLayer()], { Cmd: ['/unique.txt'] }),
    missingImage: images.missing('test/busybox'),
    program: (steps) => ({ image: server, command: ['/bin/sh', '-c', shellScript(steps)] }),
    missingCommand: { image: server, command: ['/no/such/binary'] },
  };
}
