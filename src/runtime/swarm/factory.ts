// runtime/swarm/factory: the swarm driver as the daemon gets it. Checks first that the Docker Engine it
// was pointed at is a swarm manager (failing at `skiff up` with what to do, not at the first deploy),
// and builds the engines of the nodes Skiff was given.
import path from 'node:path';
import { SkiffError } from '../../core/errors.ts';
import type { Logger } from '../../core/logger.ts';
import type { BlobSource, ManifestSource } from '../../images/ports.ts';
import { LogArchive } from '../runc/log-archive.ts';
import { Engine, type EngineTls } from './engine.ts';
import { SwarmInstanceDriver } from './swarm-driver.ts';

export interface SwarmDriverSetup {
  dockerHost: string;
  /** for https:// engines: Docker's client TLS material */
  tls?: EngineTls;
  /** HOSTNAME → that node's engine address */
  nodeHosts: Map<string, string>;
  owner: string;
  images: ManifestSource & BlobSource;
  /** HOST:PORT the nodes pull from */
  registry: () => string;
  registryAuth?: { username: string; password: string };
  dataDir: string;
  /** where deleted instances' output is kept; default <dataDir>/logs (the hybrid driver gives its
   *  swarm side a directory apart from runc's) */
  logsDir?: string;
  volumes?: { hostPath(volume: string): Promise<string> };
  volumeNode?: string;
  constraints: string[];
  stopGraceMs: number;
  cpuReservation: number;
  logger?: Logger;
}

export interface SwarmInfo {
  /** the manager's hostname and swarm node id */
  hostname: string;
  nodeId: string;
  nodes: number;
}

/** GET /info of the manager: refuses an engine that is not an active swarm manager. */
export async function swarmManagerInfo(manager: Engine): Promise<SwarmInfo> {
  const info = await manager.call<{ Name?: string; Swarm?: { LocalNodeState?: string; ControlAvailable?: boolean; NodeID?: string; Nodes?: number } }>('GET', '/info', { timeoutMs: 10_000 }).catch((err: Error) => {
    throw new SkiffError('PREFLIGHT_FAILED', `runtime.driver swarm: ${err.message} (--docker-host names a swarm manager's Docker Engine)`, { cause: err });
  });
  const s = info.Swarm;
  if (s?.LocalNodeState !== 'active') throw new SkiffError('PREFLIGHT_FAILED', `runtime.driver swarm: the Docker Engine at ${manager.address} is not in a swarm (state ${s?.LocalNodeState ?? 'unknown'}): run \`docker swarm init\` on it, and \`docker swarm join\` on the other nodes`);
  if (!s.ControlAvailable) throw new SkiffError('PREFLIGHT_FAILED', `runtime.driver swarm: the Docker Engine at ${manager.address} is a swarm worker: point --docker-host at a manager (\`docker node ls\` lists them)`);
  return { hostname: info.Name ?? '', nodeId: s.NodeID ?? '', nodes: s.Nodes ?? 0 };
}

export async function createSwarmDriver(o: SwarmDriverSetup): Promise<{ driver: SwarmInstanceDriver; info: SwarmInfo }> {
  const manager = new Engine(o.dockerHost, o.tls);
  const info = await swarmManagerInfo(manager);
  const nodes = new Map([...o.nodeHosts].map(([hostname, host]) => [hostname, new Engine(host, o.tls)]));
  const driver = new SwarmInstanceDriver({
    manager,
    nodes,
    owner: o.owner,
    images: o.images,
    registry: o.registry,
    ...(o.registryAuth ? { registryAuth: o.registryAuth } : {}),
    logArchive: new LogArchive(o.logsDir ?? path.join(o.dataDir, 'logs')),
    ...(o.volumes ? { volumes: o.volumes } : {}),
    // the manager's own node holds the volumes only when Skiff runs there (a local socket); else it
    // must be named, or a bind source would be a path on whichever node a task lands on
    ...(o.volumeNode || o.dockerHost.startsWith('unix://') ? { volumeNode: o.volumeNode || info.hostname } : {}),
    defaultStopGraceMs: o.stopGraceMs,
    cpuReservation: o.cpuReservation,
    placement: { constraints: o.constraints },
    ...(o.logger ? { logger: o.logger } : {}),
  });
  return { driver, info };
}
