// daemon/drivers: the instance driver a node runs, chosen by the `runtime.driver` setting: runc on this
// machine, a Docker Swarm's nodes, or both (hybrid) (docs/cluster.md).
import { randomBytes } from 'node:crypto';
import { writeFileAtomic } from '../core/fsutil.ts';
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { parseNodeHost, type Settings } from '../config/settings.ts';
import { SkiffError } from '../core/errors.ts';
import type { FreeSpaceCheck } from '../core/free-space.ts';
import type { Logger } from '../core/logger.ts';
import type { Registry } from '../registry/registry.ts';
import type { InstanceDriver } from '../core/instance.ts';
import type { NodeInventory } from '../core/nodes.ts';
import { createRuncDriver } from '../runtime/runc/factory.ts';
import { createSwarmDriver, type SwarmInfo } from '../runtime/swarm/factory.ts';
import { readEngineTls } from '../runtime/swarm/engine.ts';
import { HybridInstanceDriver } from '../runtime/hybrid/hybrid-driver.ts';
import type { TokenRepository } from '../store/repositories.ts';
import { ensureFileToken } from './admin-token.ts';
import { RegistryImageSource } from './image-source.ts';

export interface DriverContext {
  registry: Registry;
  space: FreeSpaceCheck;
  logger: Logger;
  volumes?: { hostPath(volume: string): Promise<string> };
  tokens: TokenRepository;
  now: number;
  /** the control API's address once it listens (HOST:PORT): the registry the swarm's nodes pull from */
  listenAddress: () => string;
  /** the registry's TLS listener (HOST:PORT) once it listens, when there is one: preferred for the nodes */
  registryTlsAddress: () => string | undefined;
}

export interface CreatedDriver {
  driver: InstanceDriver;
  /** what `skiff up` prints about it (asked once the daemon listens: the addresses are known then) */
  description: () => string[];
  swarm?: SwarmInfo;
  /** GET /api/v1/nodes when the driver lists nodes itself (swarm); absent: this machine alone */
  nodes?: NodeInventory;
}

/** `<data-dir>/swarm-pull.token`: the pull token the swarm's nodes pull images with */
export const SWARM_PULL_TOKEN_FILE = 'swarm-pull.token';

export async function createDriver(settings: Settings, c: DriverContext): Promise<CreatedDriver> {
  switch (settings.runtime.driver) {
    case 'runc':
      return runcDriver(settings, c);
    case 'swarm':
      return swarmDriver(settings, c);
    case 'hybrid': {
      const local = runcDriver(settings, c);
      // the swarm side keeps deleted instances' output apart from runc's: each side lists its own
      const cluster = await swarmDriver(settings, c, path.join(path.resolve(settings.dataDir), 'swarm-logs'));
      const { localPerRevision, localMax } = settings.runtime.hybrid;
      const driver = new HybridInstanceDriver(local.driver, cluster.driver, { localPerRevision, localMax });
      return {
        driver,
        nodes: driver,
        ...(cluster.swarm ? { swarm: cluster.swarm } : {}),
        description: () => [`hybrid: the first ${localPerRevision} instance(s) of each revision on this machine (at most ${localMax}), the rest on the swarm`, ...local.description(), ...cluster.description()],
      };
    }
  }
}

function runcDriver(settings: Settings, c: DriverContext): CreatedDriver {
  const { bridge, subnet, chainPrefix, egress, egressInterfaces, writableLayerBytes, deviceAllowList, cdiSpecDirs } = settings.runtime;
  const driver = createRuncDriver({ dataDir: path.resolve(settings.dataDir), images: new RegistryImageSource(c.registry), network: { bridge, cidr: subnet, chainPrefix, egress, egressInterfaces }, writableLayerBytes, devices: { allowList: deviceAllowList, cdiDirs: cdiSpecDirs }, space: c.space, logger: c.logger, ...(c.volumes ? { volumes: c.volumes } : {}) });
  return { driver, description: () => [`runc on this machine (bridge ${bridge}, ${subnet})`] };
}

async function swarmDriver(settings: Settings, c: DriverContext, logsDir?: string): Promise<CreatedDriver> {
  const s = settings.runtime.swarm;
  // the nodes pull over TLS when Skiff has a TLS listener (they trust `skiff ca`), else over plain HTTP
  const tls = settings.registryTls !== '';
  const registry = () => s.registry || nodeReachable((tls ? c.registryTlsAddress() : undefined) ?? c.listenAddress());
  const configured = tls ? settings.registryTls : `${settings.listen.host}:${settings.listen.port}`;
  if (!s.registry) nodeReachable(configured); // refuse a loopback or wildcard address at once
  const tokenFile = await ensureFileToken(settings.dataDir, SWARM_PULL_TOKEN_FILE, 'swarm-nodes', 'pull', c.tokens, c.now);
  const password = (await fsp.readFile(tokenFile, 'utf8')).trim();
  const owner = await swarmOwner(settings.dataDir);
  const { driver, info } = await createSwarmDriver({
    dockerHost: s.dockerHost,
    ...(s.tlsCertPath ? { tls: readEngineTls(s.tlsCertPath) } : {}),
    nodeHosts: new Map(s.nodeHosts.map((e) => parseNodeHost(e, 'runtime.swarm.nodeHosts')).map((n) => [n.hostname, n.host])),
    owner,
    images: new RegistryImageSource(c.registry),
    registry,
    registryAuth: { username: 'swarm-nodes', password },
    dataDir: path.resolve(settings.dataDir),
    ...(logsDir ? { logsDir } : {}),
    ...(c.volumes ? { volumes: c.volumes } : {}),
    volumeNode: s.volumeNode,
    constraints: s.constraints,
    stopGraceMs: s.stopGraceMs,
    cpuReservation: s.cpuReservation,
    logger: c.logger,
  });
  return {
    driver,
    nodes: driver,
    swarm: info,
    description: () => {
      const where = registry();
      return [
      `swarm through ${s.dockerHost} (manager ${info.hostname}, ${info.nodes} node${info.nodes === 1 ? '' : 's'}; instances labelled skiff.owner=${owner})`,
      tls && !s.registry
        ? `nodes pull images from ${where} over TLS: on every node, \`skiff ca > /etc/docker/certs.d/${where}/ca.crt\``
        : `nodes pull images from ${where}: give every node's dockerd \`"insecure-registries": ["${where}"]\` (/etc/docker/daemon.json), or serve the registry over TLS (--registry-tls) and install \`skiff ca\` on them`,
      s.nodeHosts.length ? `node engines: ${s.nodeHosts.map((e) => e.split('=')[0]).join(', ')}` : 'node engines: none (runtime.swarm.nodeHosts): no freezing, CPU/memory figures or listening checks',
        ...plainEngines([s.dockerHost, ...s.nodeHosts.map((e) => e.slice(e.indexOf('=') + 1))]),
      ];
    },
  };
}

/** `<data-dir>/swarm-owner`: this daemon's label value on its swarm services */
export const SWARM_OWNER_FILE = 'swarm-owner';

/** This daemon's owner label: random, made once and kept in the data dir, so two Skiffs on one swarm
 *  (each with the default /var/lib/skiff) never adopt, or remove as orphans, each other's instances. */
async function swarmOwner(dataDir: string): Promise<string> {
  const file = path.join(dataDir, SWARM_OWNER_FILE);
  const kept = (await fsp.readFile(file, 'utf8').catch(() => '')).trim();
  if (/^skiff-[0-9a-f]{12}$/.test(kept)) return kept;
  const owner = `skiff-${randomBytes(6).toString('hex')}`;
  await writeFileAtomic(file, owner + '\n', 0o600);
  return owner;
}

/** A warning for each engine reached over plain TCP off this machine: whoever reaches that port is
 *  root on the node, and the nodes' pull token travels in clear. */
function plainEngines(hosts: string[]): string[] {
  return hosts
    .filter((h) => /^(?:tcp|http):\/\//.test(h) && !/^(?:tcp|http):\/\/(?:127\.|localhost|\[::1\])/.test(h))
    .map((h) => `warning: ${h} is the Docker Engine API over plain TCP: anyone who reaches it is root on that node. Use unix:// (an SSH tunnel) or https:// with client certificates (runtime.swarm.tlsCertPath)`);
}

/** HOST:PORT as the nodes reach it: a loopback or wildcard address would be each node's own. */
function nodeReachable(hostPort: string): string {
  const host = hostPort.replace(/:\d+$/, '').replace(/^\[|\]$/g, '');
  const loopback = host === 'localhost' || /^127\./.test(host) || host === '::1';
  const wildcard = host === '0.0.0.0' || host === '::' || host === '';
  if (loopback || wildcard) {
    throw new SkiffError('CONFIG_INVALID', `runtime.swarm.registry: the swarm's nodes cannot pull from ${hostPort} (${loopback ? 'loopback' : 'every address'}): listen on an address the nodes reach (--listen 10.0.0.5:5000) or set runtime.swarm.registry (SKIFF_RUNTIME_SWARM_REGISTRY=HOST:PORT)`);
  }
  return hostPort;
}
