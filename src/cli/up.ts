// cli/up: `skiff up` starts the daemon in the foreground and stops it gracefully on SIGTERM/SIGINT.
import type { Command } from 'commander';
import { loadSettings } from '../config/settings.ts';
import { exitWithError } from './output.ts';

export function registerUp(program: Command): void {
  program
    .command('up')
    .description('run the Skiff daemon (control API, registry, gateway) in the foreground')
    .option('--listen <host:port>', 'control API and registry address (default 127.0.0.1:5000)')
    .option('--gateway <host:port>', 'data plane address for services (default 0.0.0.0:8080)')
    .option('--config <file>', 'YAML or JSON settings file', process.env.SKIFF_CONFIG)
    .option('--log-level <level>', 'debug, info, warn or error')
    .action(async (opts: { listen?: string; gateway?: string; config?: string; logLevel?: string }) => {
      const global = program.opts<{ dataDir?: string }>();
      const settings = loadSettings({
        file: opts.config,
        env: { SKIFF_DATA_DIR: '/var/lib/skiff', ...process.env },
        flags: { dataDir: global.dataDir, listen: opts.listen, gateway: opts.gateway, logLevel: opts.logLevel },
      });
      // loaded here, not at the top: every other command starts without the daemon's modules (~0.5 s)
      const { startDaemon } = await import('../daemon/daemon.ts');
      const daemon = await startDaemon(settings);
      process.stdout.write(
        [
          `skiff up: data directory ${settings.dataDir}`,
          `  control API + registry: ${daemon.apiUrl}  (/api/v1, /v2)`,
          `  admin token: ${daemon.adminTokenFile}`,
          `  gateway (services): ${daemon.gatewayUrl}  (http://NAME.${settings.domain}:${new URL(daemon.gatewayUrl).port}/ or /s/NAME/)`,
          '',
        ].join('\n'),
      );
      const shutdown = (signal: string) => {
        process.stdout.write(`skiff: ${signal} received, shutting down\n`);
        daemon.stop().then(() => process.exit(0), exitWithError);
      };
      process.once('SIGTERM', () => shutdown('SIGTERM'));
      process.once('SIGINT', () => shutdown('SIGINT'));
    });
}
