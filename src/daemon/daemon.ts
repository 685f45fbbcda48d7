// daemon/daemon: the composition root. Builds every component, wires ports, and owns start/stop order.
//
//   settings.store ─► Store (SQLite or PostgreSQL): registry metadata, tokens, serving records
//   data dir ─► FsBlobStore ─┬─► UploadManager ─┬─► /v2 routes ─┐
//   DigestLocks ─────────────┴─► Registry ──────┘               ├─► control server (--listen)
//   tokens ─► registry auth, API auth                            │
//   collectGarbage (scheduled + POST /api/v1/registry/gc) ─► /api┘
//   settings.runtime.driver ─► InstanceDriver (runc: images from the Registry)
//   serving records + driver + images ─► startServing: gateway (--gateway) + scheduler + ServingService ─► /api/v1/services
//   driver + images ─► RunService (one-off containers, `skiff run`) ─► /api/v1/runs
//   store.domains + cert files + ACME (acme-client) + gateway ─► DomainService ─► /api/v1/domains
//   store.secrets + <data-dir>/secrets.key ─► SecretsService ─► /api/v1/secrets; pins a deploy's secrets,
//                                    opens them for each instance the scheduler creates (never on disk in clear)
//   store.jobs + driver + images ─► JobService (run-to-completion jobs; resumes executions at start) ─► /api/v1/jobs
//                                   └─► startEvents (a cron trigger with --job starts executions: JobsPort)
//   scheduler + gateway + driver.stats ─► Meter ─► store.usage ─► UsageService ─► /api/v1/usage, /api/v1/bill
//                                    (daemon/metering-wiring.ts; per-minute rollups, docs/metering.md)
//   gateway + scheduler + cold starts ─► ServiceStats (every stats.stepMs, in memory) ─► /api/v1/services/NAME/stats
//   API changes + scheduler writes ─► ChangeHub ─► /api/v1/stream (server-sent events; ended first at stop)
//   settings.registryTls ─► <data-dir>/ca (registry-ca.ts: own CA, server certificate) ─► a second,
//                            HTTPS listener of the same app (/v2, /api/v1, dashboard); GET /api/v1/ca, `skiff ca`
import { wireProjects } from './projects-wiring.ts';
import path from 'node:path';
import { promises as fsp } from 'node:fs';
import Fastify, { LogController, type FastifyBaseLogger } from 'fastify';
import pino from 'pino';
import { prettyDestination, wantsPretty } from '../core/pretty-log.ts';
import type { Settings } from '../config/settings.ts';
import { freeSpaceFloor } from '../core/free-space.ts';
import { systemClock, type Clock } from '../core/clock.ts';
import type { Logger } from '../core/logger.ts';
import { SkiffError } from '../core/errors.ts';
import { tokenFromAuthorization } from '../core/auth.ts';
import type { GcResult } from '../core/views.ts';
import { VERSION } from '../core/version.ts';
import { openStore } from '../store/open.ts';
import { SQLITE_FILE } from '../store/sqlite.ts';
import type { Store, TokenRepository } from '../store/repositories.ts';
import { FsBlobStore } from '../registry/fs-blob-store.ts';
import { DigestLocks } from '../registry/digest-locks.ts';
import { UploadManager } from '../registry/uploads.ts';
import { Registry } from '../registry/registry.ts';
import { RegistryBrowser } from '../registry/browse.ts';
import { registerRegistryRoutes } from '../registry/http.ts';
import { sendOciError } from '../registry/errors.ts';
import { collectGarbage } from '../registry/gc.ts';
import type { InstanceDriver } from '../core/instance.ts';
import { RunService } from '../serving/runs.ts';
import { JobService } from '../serving/jobs.ts';
import { VolumeService } from '../serving/volumes.ts';
import { LoopVolumes } from '../runtime/volumes/loop-volumes.ts';
import { startEvents } from './events-wiring.ts';
import { triggerRefs } from './events-adapters.ts';
import { RunSpares } from '../serving/run-spares.ts';
import { runId } from '../core/names.ts';
import { registerApiRoutes } from '../api/routes.ts';
import { defaultDashboardDir, loadDashboard, registerDashboard } from './dashboard.ts';
import { sendApiError } from '../api/errors.ts';
import { schemaErrorFormatter } from '../api/validation-errors.ts';
import { ensureAdminToken } from './admin-token.ts';
import { startServing } from './serving-wiring.ts';
import { QuotaLedger } from '../core/quota.ts';
import { withTaskQuota } from '../serving/quota.ts';
import { startMetering } from './metering-wiring.ts';
import { startBudgets } from './budget-wiring.ts';
import { startDomains } from './domains-wiring.ts';
import { SecretsService } from '../serving/secrets.ts';
import { nodeKeyCipher } from './node-key.ts';
import { imagesFromRegistry } from './serving-adapters.ts';
import { InMemoryProjectNames } from './project-names.ts';
import { createDriver } from './drivers.ts';
import { localNode } from './nodes-wiring.ts';
import { SkiffMetrics, listenMetrics } from './metrics.ts';
import { parseHostPort } from '../config/settings.ts';
import { ChangeHub, ChangeStreams } from '../api/change-hub.ts';
import { startServiceStats } from './service-stats-wiring.ts';
import { ensureRegistryTls, registryCaFiles, wantedNames, type RegistryTlsMaterial } from './registry-ca.ts';
import { listenRegistryTls } from './registry-tls-listener.ts';

export interface Daemon {
  readonly apiUrl: string;
  readonly gatewayUrl: string;
  /** the gateway's TLS port for custom domains (https://HOST:PORT), when it has one */
  readonly gatewayTlsUrl: string | undefined;
  /** the control API and registry over TLS (https://HOST:PORT), when settings.registryTls names a port */
  readonly registryTlsUrl: string | undefined;
  /** the CA certificate nodes trust for registryTlsUrl (<dataDir>/ca/ca.crt), when it is on */
  readonly caFile: string | undefined;
  /** its SHA-256 fingerprint (AA:BB:…), to compare with what `skiff ca` fetched, when it is on */
  readonly caFingerprint: string | undefined;
  /** the names (DNS names, IP addresses) registryTlsUrl's certificate carries, when it is on */
  readonly registryTlsNames: string[] | undefined;
  readonly adminTokenFile: string;
  /** the unauthenticated metrics listener (http://HOST:PORT/metrics), when `metrics.listen` names one */
  readonly metricsUrl: string | undefined;
  readonly settings: Settings;
  /** where metadata lives, for people: the SQLite file, or the PostgreSQL server and database (never a password) */
  readonly storeDescription: string;
  /** the instance driver, in words (`skiff up` prints it): where instances run, what nodes need */
  readonly driverDescription: string[];
  gc(): Promise<GcResult>;
  /** Stops the daemon; instances keep running so the next daemon re-adopts them. */
  stop(): Promise<void>;
  /** `skiff down`: no new connections, every instance finishes its requests and stops, then the
   *  daemon stops. Desired state is kept: the next daemon starts the services' min instances. */
  down(): Promise<void>;
  /** Resolves once the daemon has stopped, by stop() or down() (`skiff up` exits then). */
  readonly stopped: Promise<void>;
  /** Deletes every instance this daemon's driver has (tests). */
  stopInstances(): Promise<void>;
}

export interface DaemonOptions {
  clock?: Clock;
  logger?: pino.Logger;
  /** the instance driver; by default the one `runtime.driver` names */
  driver?: InstanceDriver;
}

export async function startDaemon(settings: Settings, options: DaemonOptions = {}): Promise<Daemon> {
  const clock = options.clock ?? systemClock;
  const pinoLogger = options.logger ?? (wantsPretty(settings.logFormat) ? pino({ level: settings.logLevel }, prettyDestination()) : pino({ level: settings.logLevel }));
  const log = pinoLogger as unknown as Logger;
  await fsp.mkdir(settings.dataDir, { recursive: true, mode: 0o700 });

  const store = await openStore({ url: settings.store, dataDir: settings.dataDir, clock });
  const stopping: Array<() => Promise<void>> = [() => store.close()];
  const stopAll = async () => {
    for (const stop of stopping.splice(0).reverse()) await stop();
  };
  try {
    const adminTokenFile = await ensureAdminToken(settings.dataDir, store.tokens, clock.now());

    const blobs = await FsBlobStore.open(path.join(settings.dataDir, 'registry'));
    const locks = new DigestLocks();
    const space = freeSpaceFloor(settings.dataDir, settings.minFreeBytes);
    const uploads = new UploadManager(store.registry, blobs, locks, clock, space);
    const registry = new Registry(store.registry, blobs, locks, clock, { maxManifestBytes: settings.registry.maxManifestBytes });
    const gc = () =>
      collectGarbage(
        { metadata: store.registry, blobs, locks, uploads, clock, log: log.child({ component: 'gc' }) },
        { graceMs: settings.registry.gcGraceSeconds * 1000, uploadTtlMs: settings.registry.uploadTtlSeconds * 1000 },
      );

    // persistent volumes: loop-mounted ext4 images under <dataDir>/volumes, mounted again here after a
    // reboot before any instance that names one is re-adopted or started
    const volumeHost = new LoopVolumes(path.join(path.resolve(settings.dataDir), 'volumes'), log);
    // the registry's address for the swarm's nodes: known before the listen unless the port is 0
    let listenAddress = `${settings.listen.host}:${settings.listen.port}`;
    let registryTlsAddress: string | undefined;
    const made = options.driver ? undefined : await createDriver(settings, { registry, space, logger: log, volumes: volumeHost, tokens: store.tokens, now: clock.now(), listenAddress: () => listenAddress, registryTlsAddress: () => registryTlsAddress });
    const driver = options.driver ?? made!.driver;
    // the project names, in memory: which project a repository belongs to is asked on every /v2
    // request and every image resolution (registry/project-access.ts); wireProjects keeps it current
    const projectNames = await InMemoryProjectNames.load(store.projects);
    const images = imagesFromRegistry(registry, driver, projectNames);
    const triggers = triggerRefs(store.events);
    const secrets = new SecretsService({ records: store.secrets, cipher: nodeKeyCipher(settings.dataDir), serving: store.serving, clock });
    const volumes = new VolumeService({ records: store.volumes, serving: store.serving, host: volumeHost, clock });
    await volumes.restore();
    const domainRefs = { domainsOf: async (service: string) => (await store.domains.listDomains()).filter((d) => d.service === service).map((d) => d.host) };
    // project quotas: one ledger of what each project's instances hold, shared by the scheduler and
    // the job runner (core/quota.ts); quotas cached from the store, kept current by the project service
    const quotas = new QuotaLedger();
    quotas.load(await store.projects.listProjects());
    // the dashboard's live updates: a change of a service's instances or events is announced under
    // its project (looked up only while someone listens)
    const changes = new ChangeHub(clock);
    const serviceChanged = (service: string) => {
      if (changes.size === 0) return;
      void store.serving.getService(service).then((svc) => svc && changes.publish({ kind: 'service', name: service, project: svc.tenant }), () => {});
    };
    const serving = await startServing({ settings, records: store.serving, projects: store.projects, quotas, clock, log, driver, images, triggers, domains: domainRefs, secrets, volumes, onServiceChange: serviceChanged });
    // `skiff down` drains; a plain stop leaves instances to the next daemon
    let drainOnStop = false;
    stopping.push(async () => void (drainOnStop ? await serving.drainAndStop() : await serving.stop()));
    // Prometheus metrics: read from the planes' own state at each scrape (daemon/metrics.ts)
    const metrics = new SkiffMetrics({ gateway: serving.gateway, revisions: () => serving.revisionMetrics(), coldStarts: serving.coldStarts });
    // metering: after serving (its instances re-adopted), stopped before it (a last sample and flush)
    const metering = startMetering({ settings, serving, driver, usage: store.usage, clock, log });
    stopping.push(() => metering.stop());
    // an instance's CPU and memory in the service views: the metering's last reading, no cgroup read of its own
    if (metering.meter) serving.setInstanceUsage({ of: (id) => metering.meter!.recentUsage(id) });
    // the charts' history: per service and step, read from the gateway's and scheduler's counters
    const serviceStats = startServiceStats({ serving, exists: async (name) => (await store.serving.getService(name)) !== undefined, clock, stepMs: settings.stats.stepMs });
    stopping.push(async () => serviceStats.stop());
    // budgets: evaluated after metering starts, stopped before it; a spent one caps the quota ledger
    const budgets = startBudgets({ settings, store, metering, quotas, clock, log });
    stopping.push(() => budgets.stop());
    // after serving started: the scheduler's orphan sweep has listed the containers a stopped daemon
    // left, so the task containers made from here on are not among them. Before the events: a cron
    // trigger may start a job (--job), and watches the executions it started that were resumed here.
    // Stopped after them (stops run in reverse), so no fire starts an execution while the job service stops.
    const jobs = new JobService({ records: store.jobs, driver: withTaskQuota(driver, quotas), images, clock, log: log.child({ component: 'jobs' }), triggers });
    await jobs.start();
    stopping.push(() => jobs.stop());
    const events = await startEvents({ settings, store, serving, jobs, clock, log });
    stopping.push(() => events.stop());
    metrics.setTriggers(() => events.service.metrics(), () => events.service.backlog());
    const domains = await startDomains({ settings, store, gateway: serving.gateway, tlsAddress: serving.gatewayTlsAddress, clock, log });
    stopping.push(() => domains.stop());
    const runLog = log.child({ component: 'runs' });
    const spares = settings.coldStart.runSpares > 0 ? new RunSpares({ delete: (id) => driver.delete(id), newId: runId, clock, log: runLog, maxKeys: settings.coldStart.runSpares }) : undefined;
    if (spares) stopping.push(() => spares.stop());
    const runs = new RunService({ driver, images, log: runLog, ...(spares ? { spares } : {}) });
    // projects: the API checks every named resource's owner; quota changes reach the scheduler at once
    const projects = wireProjects({ store, clock, usage: (project) => quotas.usage(project), listeners: [(project, record) => quotas.setQuota(project, record?.quota), (project, record) => (record ? projectNames.add(project) : projectNames.remove(project)), (project, record) => {
      // a removed project's budget goes with it
      if (!record) void budgets.service.forget(project).catch((err: unknown) => log.warn({ err, project }, 'could not remove the budget of a removed project'));
    }] });

    // the registry's TLS listener: its CA and certificate are ready before the routes (GET /api/v1/ca
    // answers the CA), the listener itself opens after the plain one
    const registryTlsAt = settings.registryTls ? parseHostPort(settings.registryTls, 'registryTls') : undefined;
    const tlsLog = log.child({ component: 'registry-tls' });
    const registryTlsMaterial = () => ensureRegistryTls(settings.dataDir, wantedNames(registryTlsAt!.host, settings.registryTlsNames), new Date(clock.now()), tlsLog);
    const registryTls: RegistryTlsMaterial | undefined = registryTlsAt ? await registryTlsMaterial() : undefined;

    const app = Fastify({
      loggerInstance: pinoLogger.child({ component: 'http' }) as unknown as FastifyBaseLogger,
      logController: new LogController({ disableRequestLogging: true }),
      bodyLimit: 1024 * 1024,
      // Unknown fields are errors, not silently dropped (fastify's default removes them): a typo such
      // as `scaling.maxx` must not deploy a service without the limit its author meant.
      ajv: { customOptions: { removeAdditional: false, allowUnionTypes: true } },
      schemaErrorFormatter,
      forceCloseConnections: true,
      // Errors raised before routing (a malformed URL) reach no plugin's error handler: give them each surface's shape.
      frameworkErrors: (err, req, reply) => (req.url.startsWith('/v2/') ? sendOciError(reply, err, req) : sendApiError(reply, err, req)),
    });
    // The control API and registry count their connections apart from the gateway's (whose limit
    // leaves these their share of the fds): a flood on the gateway cannot lock the operator out.
    if (settings.listenMaxConnections > 0) app.server.maxConnections = settings.listenMaxConnections;
    metrics.countRegistry(app);
    registerRegistryRoutes(app, { registry, uploads, auth: { authenticate: (header) => principalOf(store.tokens, header) }, projects: projectNames });
    // `skiff down` reaches the daemon's stop, defined below once everything it stops exists
    const lifecycle = { down: () => {} };
    // Anything else on this port (no /api/v1 or /v2 route): the API's own error shape, not fastify's.
    app.setNotFoundHandler((req, reply) => sendApiError(reply, new SkiffError('NOT_FOUND', `no endpoint ${req.method} ${req.url.slice(0, 200)}`), req));
    const streams = new ChangeStreams(changes, clock);
    await registerApiRoutes(app, { stats: serviceStats, changes: streams, lifecycle, nodes: made?.nodes ?? localNode(() => serving.meteredInstances()), health: { checks: () => readinessChecks(store, log, () => metrics.storeError('ping')) }, metrics, tokens: store.tokens, projects: projects.service, owners: projects.owners, gc: { collect: gc }, registryBrowse: new RegistryBrowser(registry, projectNames), serving: serving.service, runs, events: events.service, jobs, volumes, domains, secrets, usage: metering.usage, budgets: budgets.service, ...(registryTls ? { ca: { certificate: () => registryTls.caPem } } : {}), version: VERSION, now: () => clock.now() });
    // the dashboard's static files at / and /assets/* (daemon/dashboard.ts; the page itself uses /api/v1)
    registerDashboard(app, await loadDashboard(defaultDashboardDir()), log);

    try {
      await app.listen({ host: settings.listen.host, port: settings.listen.port });
    } catch (err) {
      throw new SkiffError('CONFIG_INVALID', `cannot listen on ${settings.listen.host}:${settings.listen.port}: ${(err as Error).message}`, { cause: err });
    }
    stopping.push(() => app.close());
    // open change streams first: they would otherwise hold the close until their clients left
    stopping.push(async () => streams.close());
    const address = app.server.address();
    const port = typeof address === 'object' && address ? address.port : settings.listen.port;
    listenAddress = `${settings.listen.host.includes(':') ? `[${settings.listen.host}]` : settings.listen.host}:${port}`;
    const apiUrl = `http://${settings.listen.host.includes(':') ? `[${settings.listen.host}]` : settings.listen.host}:${port}`;

    // the same app over HTTPS (registry-tls-listener.ts)
    let registryTlsUrl: string | undefined;
    if (registryTlsAt && registryTls) {
      const listener = await listenRegistryTls({ app, at: registryTlsAt, setting: settings.registryTls, material: registryTls, renew: registryTlsMaterial, maxConnections: settings.listenMaxConnections, clock, log: tlsLog });
      stopping.push(() => listener.close());
      registryTlsUrl = listener.url;
      registryTlsAddress = `${registryTlsAt.host.includes(':') ? `[${registryTlsAt.host}]` : registryTlsAt.host}:${new URL(listener.url).port}`;
    }

    let metricsUrl: string | undefined;
    if (settings.metrics.listen) {
      const at = parseHostPort(settings.metrics.listen, 'metrics.listen');
      const listener = await listenMetrics(metrics, at.host, at.port).catch((err: Error) => {
        throw new SkiffError('CONFIG_INVALID', `cannot listen on metrics.listen ${settings.metrics.listen}: ${err.message}`, { cause: err });
      });
      stopping.push(() => listener.close());
      metricsUrl = `http://${at.host === '0.0.0.0' ? '127.0.0.1' : at.host.includes(':') ? `[${at.host}]` : at.host}:${listener.address.port}/metrics`;
    }

    if (settings.registry.gcIntervalSeconds > 0) {
      const cancel = clock.every(settings.registry.gcIntervalSeconds * 1000, () => void gc().catch((err) => log.error({ err }, 'scheduled garbage collection failed')));
      stopping.push(async () => cancel());
    }

    let stopping_: Promise<void> | undefined;
    let markStopped!: () => void;
    const stoppedPromise = new Promise<void>((resolve) => (markStopped = resolve));
    const stop = (drain: boolean) => {
      drainOnStop ||= drain;
      return (stopping_ ??= stopAll().finally(markStopped));
    };
    lifecycle.down = () => void stop(true).catch((err: unknown) => log.error({ err }, 'skiff down failed'));
    const gw = serving.gatewayAddress;
    return {
      apiUrl,
      gatewayUrl: `http://${gw.host === '0.0.0.0' ? '127.0.0.1' : gw.host}:${gw.port}`,
      gatewayTlsUrl: serving.gatewayTlsAddress && `https://${serving.gatewayTlsAddress.host === '0.0.0.0' ? '127.0.0.1' : serving.gatewayTlsAddress.host}:${serving.gatewayTlsAddress.port}`,
      registryTlsUrl,
      caFile: registryTls && registryCaFiles(settings.dataDir).caCert,
      caFingerprint: registryTls?.caFingerprint,
      registryTlsNames: registryTls?.names,
      adminTokenFile,
      metricsUrl,
      settings,
      storeDescription: describeStore(store.kind, settings),
      driverDescription: made?.description() ?? ['an injected driver'],
      gc,
      stopInstances: async () => {
        for (const inst of await driver.list()) await driver.delete(inst.id);
      },
      stop: () => stop(false),
      down: () => stop(true),
      stopped: stoppedPromise,
    };
  } catch (err) {
    await stopAll().catch(() => {});
    throw err;
  }
}

/** What /readyz reports (unauthenticated, so no detail beyond the verdict; the log has the cause):
 *  the store is the one dependency every request needs. */
async function readinessChecks(store: Store, log: Logger, failed: () => void): Promise<Record<string, string>> {
  const verdict = await store.ping().then(
    () => 'ok',
    (err: unknown) => (failed(), log.warn({ err }, 'readiness: the store does not answer'), 'unreachable'),
  );
  return { store: verdict };
}

function principalOf(tokens: TokenRepository, header: string | undefined) {
  const secret = tokenFromAuthorization(header);
  return secret ? tokens.verify(secret) : Promise.resolve(undefined);
}

function describeStore(kind: 'sqlite' | 'postgres', settings: Settings): string {
  if (kind === 'sqlite') return `SQLite ${path.join(settings.dataDir, SQLITE_FILE)}`;
  const url = new URL(settings.store);
  return `PostgreSQL ${url.hostname}:${url.port || 5432}${url.pathname}`;
}
