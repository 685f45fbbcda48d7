// cli/down: `skiff down` drains and stops every instance, then the daemon (admin). Desired state stays
// in the store: `skiff up` starts the services' min instances again. Waits until the daemon is gone.
import type { Command } from 'commander';
import { clientFrom } from './context.ts';
import { SkiffError } from '../core/errors.ts';

/** how long `skiff down` waits for the daemon to finish draining (requests may run up to their timeout) */
const WAIT_MS = 15 * 60_000;

export function registerDown(program: Command): void {
  program
    .command('down')
    .description('drain and stop every instance, then stop the daemon; services stay deployed and come back with `skiff up` (SIGTERM instead leaves instances running for the next daemon)')
    .action(async () => {
      const client = clientFrom(program);
      await client.down();
      process.stdout.write('draining: no new connections; every instance finishes its requests, then stops …\n');
      const start = Date.now();
      while (await client.alive()) {
        if (Date.now() - start > WAIT_MS) throw new SkiffError('UNAVAILABLE', `the daemon still answers after ${WAIT_MS / 60_000} min; see its log`);
        await new Promise((r) => setTimeout(r, 200));
      }
      process.stdout.write(`stopped in ${((Date.now() - start) / 1000).toFixed(1)}s; services are still deployed: \`skiff up\` starts them again\n`);
    });
}
