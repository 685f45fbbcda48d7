// cli/gc: `skiff gc` runs registry garbage collection on the daemon now.
import type { Command } from 'commander';
import { clientFrom } from './context.ts';

export function registerGc(program: Command): void {
  program
    .command('gc')
    .description('delete registry blobs no manifest refers to (safe while pushes run)')
    .action(async () => {
      const r = await clientFrom(program).gc();
      process.stdout.write(
        `deleted ${r.blobsDeleted} blobs and ${r.orphanFilesDeleted} orphan files, freed ${(r.bytesFreed / 1048576).toFixed(1)} MiB, expired ${r.uploadsExpired} uploads\n`,
      );
    });
}
