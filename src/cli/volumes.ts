// cli/volumes: `skiff volume create | ls | describe | rm | export | import` — persistent volumes
// (docs/volumes.md). A service mounts one with `skiff deploy … --volume NAME:/path[:ro]` (cli/services.ts).
// export writes a tar to stdout (or --file), import reads one from stdin (or --file).
import type { Command } from 'commander';
import { createReadStream, createWriteStream } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import { clientFrom } from './context.ts';
import { print, withOutput, type OutputFlags } from './output.ts';
import { SkiffError } from '../core/errors.ts';
import { formatMemory, parseMemory } from '../core/quantity.ts';
import { assertVolumeName } from '../core/volumes.ts';
import type { VolumeView } from '../core/views.ts';

const line = (text: string) => process.stdout.write(text + '\n');

function volumeText(v: VolumeView): string {
  return [
    `name      ${v.name}`,
    `size      ${formatMemory(v.sizeBytes)}${v.usedBytes !== undefined ? ` (${formatMemory(v.usedBytes)} used)` : ''}`,
    `shared    ${v.shared ? 'yes (several instances may mount it read-write)' : 'no (read-write on one instance at a time: services with max 1)'}`,
    `mounted   ${v.mounted === undefined ? 'unknown' : v.mounted ? 'yes' : 'no'}`,
    `used by   ${v.usedBy.length ? v.usedBy.join(', ') : '-'}`,
    `created   ${v.createdAt}`,
  ].join('\n');
}

export function registerVolumes(program: Command): void {
  const volume = program.command('volume').description('persistent volumes: create, list, describe, remove, export and import their files');
  volume
    .command('create <name>')
    .description('create a volume: a filesystem of --size (writes past it fail with ENOSPC) that services mount with --volume NAME:/path')
    .option('--size <size>', 'its size, e.g. 512Mi, 10Gi (default 1Gi)')
    .option('--shared', 'may be mounted read-write by several instances at once (a service with --max > 1); the app coordinates its writes')
    .action(async (name: string, o: { size?: string; shared?: boolean }) => {
      assertVolumeName(name, 'name');
      if (o.size !== undefined) parseMemory(o.size, '--size');
      const v = await clientFrom(program).createVolume({ name, ...(o.size !== undefined ? { size: o.size } : {}), ...(o.shared ? { shared: true } : {}) });
      line(`created   ${v.name}: ${formatMemory(v.sizeBytes)}${v.shared ? ', shared' : ''}`);
    });
  withOutput(volume.command('ls').description('list volumes')).action(async (o: OutputFlags) => {
    const listed = await clientFrom(program).listVolumes();
    await print(o, listed, () => {
      const rows = [['NAME', 'SIZE', 'USED', 'SHARED', 'USED BY']];
      for (const v of listed.volumes) rows.push([v.name, formatMemory(v.sizeBytes), v.usedBytes !== undefined ? formatMemory(v.usedBytes) : '-', v.shared ? 'yes' : 'no', v.usedBy.join(',') || '-']);
      const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
      return rows.map((r) => r.map((cell, c) => cell.padEnd(widths[c]!)).join('  ').trimEnd()).join('\n');
    });
  });
  withOutput(volume.command('describe <name>').description('a volume: size, usage, whether it is shared, the services that mount it')).action(async (name: string, o: OutputFlags) => {
    const v = await clientFrom(program).getVolume(name);
    await print(o, v, () => volumeText(v));
  });
  volume
    .command('rm <name>')
    .description('remove a volume and its data (refused while any revision of any service mounts it)')
    .action(async (name: string) => {
      await clientFrom(program).deleteVolume(name);
      line(`removed   ${name}`);
    });
  volume
    .command('export <name>')
    .description('write the volume’s files as a tar archive to stdout (skiff volume export data > data.tar)')
    .option('-f, --file <path>', 'write the tar to this file instead of stdout')
    .action(async (name: string, o: { file?: string }) => {
      if (o.file === undefined && process.stdout.isTTY) throw new SkiffError('BAD_REQUEST', 'export writes a tar archive: redirect stdout (> data.tar) or give --file');
      const tar = await clientFrom(program).exportVolume(name);
      await pipeline(Readable.from(tar), o.file !== undefined ? createWriteStream(o.file) : process.stdout);
    });
  volume
    .command('import <name>')
    .description('unpack a tar archive from stdin into the volume (skiff volume import data < data.tar): files replaced, directories merged')
    .option('-f, --file <path>', 'read the tar from this file instead of stdin')
    .action(async (name: string, o: { file?: string }) => {
      if (o.file === undefined && process.stdin.isTTY) throw new SkiffError('BAD_REQUEST', 'import reads a tar archive: redirect stdin (< data.tar) or give --file');
      const r = await clientFrom(program).importVolume(name, o.file !== undefined ? createReadStream(o.file) : process.stdin);
      line(`imported  ${r.entries} entries into ${r.volume}${r.dropped.length ? ` (${r.dropped.length} dropped: devices and fifos are not kept: ${r.dropped.slice(0, 5).join(', ')})` : ''}`);
    });
}
