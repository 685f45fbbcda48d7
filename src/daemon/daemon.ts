// daemon/daemon: the composition root. Builds every component, wires ports, and owns start/stop order.
//
//   settings ─► SQLite db ─► RegistryStore, TokenStore
//   data dir ─► BlobStore ─► UploadManager ─► Registry ─► /v2 routes ─┐
//   TokenStore ─► registry auth, API auth                           ├─► control server (--listen)
//   collectGarbage (scheduled + POST /api/v1/registry/gc) ─► /api ──┘
//   db ─► ServingStore ─┐
//   InstancePort ───────┼─► startServing: gateway (--gateway) + scheduler + ServingService ─► /api/v1/services
//   Registry ─► resolve image refs ┘
//   InstancePort + resolve image refs ─► RunService (one-off containers, `skiff run`) ─► /api/v1/runs
import path from 'node:path';
import { promises as fsp } from 'node:fs';
import Fastify, { LogController, type FastifyBaseLogger } from 'fastify';
import pino from 'pino';
import type { Settings } from '../config/settings.ts';
import { systemClock, type Clock } from '../core/clock.ts';
import type { Logger } from '../core/logger.ts';
import { SkiffError } from '../core/errors.ts';
import { openDatabase, type Db } from '../store/sqlite.ts';
import { RegistryStore } from '../store/registry-store.ts';
import { TokenStore, tokenFromAuthorization } from '../store/token-store.ts';
import { BlobStore } from '../registry/blob-store.ts';
import { UploadManager } from '../registry/uploads.ts';
import { Registry } from '../registry/registry.ts';
import { registerRegistryRoutes } from '../registry/http.ts';
import { sendOciError } from '../registry/errors.ts';
import { collectGarbage, type GcResult } from '../registry/gc.ts';
import { registerApiRoutes } from '../api/routes.ts';
import { sendApiError } from '../api/errors.ts';
import { ensureAdminToken } from './admin-token.ts';
import { startServing, type ServingInstances } from './serving-wiring.ts';
import { LazyInstances } from './lazy-instances.ts';
import { createRuncInstances } from './runc-instances.ts';
import { RunService, type RunInstances } from './runs.ts';
import { parseImageReference } from '../core/names.ts';
import { VERSION } from './version.ts';

export interface Daemon {
  readonly apiUrl: string;
  readonly gatewayUrl: string;
  readonly adminTokenFile: string;
  readonly settings: Settings;
  gc(): Promise<GcResult>;
  /** Stops the daemon; instances keep running so the next daemon re-adopts them. */
  stop(): Promise<void>;
  /** Stops every instance this daemon's data dir owns (tests, and `skiff down --all` later). */
  stopInstances(): Promise<void>;
}

export interface DaemonOptions {
  clock?: Clock;
  logger?: pino.Logger;
  /** the instance driver; by default runc (images + runtime) built from settings */
  instances?: ServingInstances & RunInstances;
}

export async function startDaemon(settings: Settings, options: DaemonOptions = {}): Promise<Daemon> {
  const clock = options.clock ?? systemClock;
  const pinoLogger = options.logger ?? pino({ level: settings.logLevel });
  const log = pinoLogger as unknown as Logger;
  await fsp.mkdir(settings.dataDir, { recursive: true, mode: 0o700 });

  const db: Db = openDatabase(path.join(settings.dataDir, 'skiff.db'));
  const registryStore = new RegistryStore(db);
  const tokens = new TokenStore(db);
  const adminTokenFile = await ensureAdminToken(settings.dataDir, tokens, clock.now());

  const blobs = new BlobStore(path.join(settings.dataDir, 'registry'));
  await blobs.init();
  const uploads = new UploadManager(registryStore, blobs, clock);
  const registry = new Registry(registryStore, blobs, clock, { maxManifestBytes: settings.registry.maxManifestBytes });
  const gc = () =>
    collectGarbage(
      { store: registryStore, blobs, uploads, clock, log: log.child({ component: 'gc' }) },
      { graceMs: settings.registry.gcGraceSeconds * 1000, uploadTtlMs: settings.registry.uploadTtlSeconds * 1000 },
    );

  const instances =
    options.instances ??
    new LazyInstances(
      () =>
        createRuncInstances({
          dataDir: settings.dataDir,
          registry,
          logger: log,
          network: { bridge: settings.runtime.bridge, cidr: settings.runtime.subnet, chainPrefix: settings.runtime.chainPrefix, egress: settings.runtime.egress },
        }),
      path.join(settings.dataDir, 'instances'),
    );
  const resolveImage = async (ref: string) => {
    const image = parseImageReference(ref);
    const row = registry.resolveManifest(image.repository, image.reference);
    return `${image.repository}@${row.digest}`;
  };
  const serving = await startServing({ settings, db, clock, log, instances, resolveImage });
  const runs = new RunService({ instances, resolveImage, log: log.child({ component: 'runs' }) });

  const app = Fastify({
    loggerInstance: pinoLogger.child({ component: 'http' }) as unknown as FastifyBaseLogger,
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: 1024 * 1024,
    forceCloseConnections: true,
    // Errors raised before routing (a malformed URL) reach no plugin's error handler: give them each surface's shape.
    frameworkErrors: (err, req, reply) => (req.url.startsWith('/v2/') ? sendOciError(reply, err, req) : sendApiError(reply, err, req)),
  });
  registerRegistryRoutes(app, {
    registry,
    uploads,
    auth: { authenticate: (header) => principalOf(tokens, header) },
  });
  await registerApiRoutes(app, { tokens, gc: { collect: gc }, serving: serving.service, runs, version: VERSION, now: () => clock.now() });

  try {
    await app.listen({ host: settings.listen.host, port: settings.listen.port });
  } catch (err) {
    await serving.stop();
    db.close();
    throw new SkiffError('CONFIG_INVALID', `cannot listen on ${settings.listen.host}:${settings.listen.port}: ${(err as Error).message}`, { cause: err });
  }
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : settings.listen.port;
  const apiUrl = `http://${settings.listen.host.includes(':') ? `[${settings.listen.host}]` : settings.listen.host}:${port}`;

  const gcTimer =
    settings.registry.gcIntervalSeconds > 0
      ? setInterval(() => gc().catch((err) => log.error({ err }, 'scheduled garbage collection failed')), settings.registry.gcIntervalSeconds * 1000)
      : undefined;
  gcTimer?.unref();

  let stopped: Promise<void> | undefined;
  const gw = serving.gatewayAddress;
  return {
    apiUrl,
    gatewayUrl: `http://${gw.host === '0.0.0.0' ? '127.0.0.1' : gw.host}:${gw.port}`,
    adminTokenFile,
    settings,
    gc,
    stopInstances: async () => {
      for (const inst of await instances.list()) await instances.stop(inst.id, 0);
    },
    stop: () =>
      (stopped ??= (async () => {
        if (gcTimer) clearInterval(gcTimer);
        await app.close();
        await serving.stop();
        db.close();
      })()),
  };
}

function principalOf(tokens: TokenStore, header: string | undefined) {
  const secret = tokenFromAuthorization(header);
  return secret ? tokens.verify(secret) : undefined;
}
