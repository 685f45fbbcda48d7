// daemon/main: `skiff up` — runs the daemon in the foreground and stops it gracefully on SIGTERM/SIGINT.
// daemon/entry.ts imports this module only for `skiff [global options] up …`, so the CLI never loads
// the daemon (and stays fast), and the daemon's modules stay out of the CLI's imports.
import { Command, Option } from 'commander';
import { loadSettings } from '../config/settings.ts';
import { exitWithError } from '../core/exit.ts';
import { VERSION } from '../core/version.ts';

export async function main(argv: string[]): Promise<void> {
  const program = new Command('skiff')
    .version(VERSION)
    // the CLI's global options, accepted before `up` as `skiff --data-dir D up` (--api is the CLI's own)
    .addOption(new Option('--api <url>').hideHelp())
    .addOption(new Option('--data-dir <dir>', 'data directory').env('SKIFF_DATA_DIR'))
    .enablePositionalOptions();
  program
    .command('up')
    .description('run the Skiff daemon (control API, registry, gateway) in the foreground')
    // also after `up` (README: `skiff up --data-dir DIR`); before it, it is the global option
    .option('--data-dir <dir>', 'data directory (default /var/lib/skiff)')
    .option('--listen <host:port>', 'control API and registry address (default 127.0.0.1:5000)')
    .option('--gateway <host:port>', 'data plane address for services (default 0.0.0.0:8080)')
    .option('--gateway-tls <host:port>', 'TLS port of the data plane for custom domains, e.g. 0.0.0.0:443 (default: none)')
    .option('--registry-tls <host:port>', 'TLS listener of the control API and registry, certificate from Skiff\'s own CA (`skiff ca`), e.g. 0.0.0.0:5443 (default: none)')
    .option('--store <url>', 'metadata store: postgres://USER:PASS@HOST:PORT/DB (default: SQLite in the data directory)')
    .option('--config <file>', 'YAML or JSON settings file', process.env.SKIFF_CONFIG)
    .option('--log-level <level>', 'debug, info, warn or error')
    .option('--driver <driver>', 'where instances run: runc (this machine) or swarm (a Docker Swarm\'s nodes; docs/cluster.md)')
    .option('--docker-host <url>', 'the swarm manager\'s Docker Engine for --driver swarm (default unix:///var/run/docker.sock)')
    .action(async (opts: { dataDir?: string; listen?: string; gateway?: string; gatewayTls?: string; registryTls?: string; store?: string; config?: string; logLevel?: string; driver?: string; dockerHost?: string }) => {
      const global = program.opts<{ dataDir?: string }>();
      const settings = loadSettings({
        file: opts.config,
        env: process.env,
        flags: { dataDir: opts.dataDir ?? global.dataDir, listen: opts.listen, gateway: opts.gateway, gatewayTls: opts.gatewayTls, registryTls: opts.registryTls, store: opts.store, logLevel: opts.logLevel, 'runtime.driver': opts.driver, 'runtime.swarm.dockerHost': opts.dockerHost },
      });
      // Signals are caught from the start: one that arrives while the daemon starts (systemd stopping
      // a slow start) stops it once it has started, instead of killing it half way.
      let signalled: string | undefined;
      let onSignal: (signal: string) => void = (signal) => void (signalled ??= signal);
      process.once('SIGTERM', () => onSignal('SIGTERM'));
      process.once('SIGINT', () => onSignal('SIGINT'));
      const { startDaemon } = await import('./daemon.ts');
      const daemon = await startDaemon(settings);
      process.stdout.write(
        [
          `skiff up: data directory ${settings.dataDir}`,
          `  metadata store: ${daemon.storeDescription}`,
          `  instances: ${daemon.driverDescription[0] ?? ''}`,
          ...daemon.driverDescription.slice(1).map((line) => `    ${line}`),
          `  control API + registry: ${daemon.apiUrl}  (/api/v1, /v2)`,
          `  dashboard: ${daemon.apiUrl}/  (sign in with an API token)`,
          ...registryTlsLines(daemon),
          `  admin token: ${daemon.adminTokenFile}`,
          `  gateway (services): ${daemon.gatewayUrl}  (http://NAME.${settings.domain}:${new URL(daemon.gatewayUrl).port}/ or /s/NAME/)`,
          `  gateway TLS (custom domains): ${daemon.gatewayTlsUrl ?? 'off (--gateway-tls HOST:PORT turns it on)'}`,
          `  metrics (Prometheus): ${daemon.apiUrl}/metrics (a metrics:read token)${daemon.metricsUrl ? `, ${daemon.metricsUrl} (no token)` : ''}`,
          '',
        ].join('\n'),
      );
      const shutdown = (signal: string) => {
        process.stdout.write(`skiff: ${signal} received, shutting down\n`);
        daemon.stop().then(() => process.exit(0), exitWithError);
      };
      // `skiff down` stops the daemon from the API: the process ends with it
      void daemon.stopped.then(() => process.exit(0));
      onSignal = shutdown;
      if (signalled) shutdown(signalled);
    });
  await program.parseAsync(argv);
}

/** What nodes need to pull over the TLS listener: its CA, and the names its certificate carries. */
function registryTlsLines(daemon: { registryTlsUrl: string | undefined; caFile: string | undefined; caFingerprint: string | undefined; registryTlsNames: string[] | undefined }): string[] {
  if (!daemon.registryTlsUrl) return ['  registry TLS: off (--registry-tls HOST:PORT turns it on)'];
  const port = new URL(daemon.registryTlsUrl).port;
  return [
    `  registry TLS: ${daemon.registryTlsUrl}  (CA: ${daemon.caFile}; \`skiff ca\` prints it)`,
    `    CA fingerprint (SHA-256): ${daemon.caFingerprint ?? ''} — \`skiff ca\` says the one it fetched: compare before trusting it`,
    `    certificate names: ${(daemon.registryTlsNames ?? []).join(', ')} (more: registryTlsNames)`,
    `    each node: skiff ca > /etc/docker/certs.d/NAME:${port}/ca.crt (no insecure-registries entry)`,
  ];
}

await main(process.argv).catch(exitWithError);
