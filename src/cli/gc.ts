// cli/gc: `skiff gc` runs registry garbage collection on the daemon now.
import type { Command } from 'commander';
import { clientFrom } from './context.ts';

/** 3600 → "1h", 90 → "90s", 5400 → "90m". */
function duration(seconds: number): string {
  if (seconds >= 3600 && seconds % 3600 === 0) return `${seconds / 3600}h`;
  if (seconds >= 60 && seconds % 60 === 0) return `${seconds / 60}m`;
  return `${seconds}s`;
}

export function registerGc(program: Command): void {
  program
    .command('gc')
    .description('delete registry blobs no manifest refers to (safe while pushes run)')
    .action(async () => {
      const r = await clientFrom(program).gc();
      process.stdout.write(
        `deleted ${r.blobsDeleted} blobs and ${r.orphanFilesDeleted} orphan files, freed ${(r.bytesFreed / 1048576).toFixed(1)} MiB, expired ${r.uploadsExpired} uploads\n` +
          // why a just-deleted image's blobs are still there: a push in flight must never lose a blob
          `kept: blobs uploaded, pulled or mounted in the last ${duration(r.graceSeconds)}, referenced or not (registry.gcGraceSeconds), so pushes running now lose nothing\n`,
      );
    });
}
