// config/settings: daemon settings, their defaults, and merging of file < env < flags.
// Every setting is documented in docs/configuration.md (a test keeps the two in step).
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { isIP } from 'node:net';
import YAML from 'yaml';
import { SkiffError } from '../core/errors.ts';
import { DEFAULT_DATA_DIR } from '../core/data-dir.ts';
import { parseConstraint } from '../core/placement.ts';
import { createHash } from 'node:crypto';

export interface HostPort {
  host: string;
  port: number;
}

export interface Settings {
  dataDir: string;
  /** where metadata lives: empty = SQLite at <dataDir>/skiff.db; postgres://USER:PASS@HOST:PORT/DB = PostgreSQL */
  store: string;
  listen: HostPort;
  gateway: HostPort;
  /** the gateway's TLS port for custom domains (HOST:PORT); empty = no TLS port (the default) */
  gatewayTls: string;
  /** a TLS listener of the control API and registry (HOST:PORT), its certificate issued by Skiff's own CA
   *  (<dataDir>/ca, `skiff ca`), so nodes pull without an insecure-registries entry; empty = none (the default) */
  registryTls: string;
  /** extra subjectAltNames (DNS names or IP addresses) of registryTls's certificate, besides the
   *  listen host, the machine's hostname and addresses, 127.0.0.1 and localhost */
  registryTlsNames: string[];
  /** Prometheus metrics (docs/metrics.md) */
  metrics: {
    /** a second listener serving GET /metrics without a token (HOST:PORT); empty = none (the default;
     *  /metrics on `listen` with a metrics:read token is always there) */
    listen: string;
  };
  /** ACME, for custom domains' certificates (docs/domains.md) */
  acme: {
    /** the ACME directory certificates are ordered from */
    directoryUrl: string;
    /** contact address given to the ACME account (expiry notices); empty = none */
    email: string;
    /** a PEM file of CA certificates trusted for the directory's HTTPS besides the system's (a test or private ACME server) */
    caFile: string;
  };
  /** plain requests take the gateway's raw HTTP/1.1 fast path; false sends every request through node:http */
  gatewayFastPath: boolean;
  /** what one client, and all clients together, may hold of the gateway (docs/configuration.md says why these defaults) */
  gatewayLimits: {
    /** open client connections, all addresses together; 0 = derived from RLIMIT_NOFILE */
    maxConnections: number;
    /** open client connections from one address; 0 = maxConnections / 8 */
    maxConnectionsPerClient: number;
    /** time a client has to send a whole request head, from connecting or from its first byte */
    headTimeoutMs: number;
    /** a spliced (upgraded) connection with no byte either way for this long is closed */
    tunnelIdleTimeoutMs: number;
  };
  /** CIDRs of front proxies whose X-Forwarded-* / Forwarded headers the gateway keeps (and appends to) */
  trustedProxies: string[];
  /** the gateway's request spans (docs/operations.md); traceparent is passed on to instances either way */
  tracing: {
    /** OTLP/HTTP collector the spans are exported to (http://HOST:4318, /v1/traces appended); empty = tracing off (the default) */
    otlpEndpoint: string;
    /** share of new traces recorded, 0–1; a client's own sampled flag decides for traces it started */
    sampleRatio: number;
  };
  /** one log line per gateway request (component "access", through the daemon's log) */
  accessLog: boolean;
  /** per-second usage metering and billing (docs/metering.md) */
  metering: {
    /** meter instances (and serve `skiff usage` / `skiff bill`); false: nothing is measured */
    enabled: boolean;
    /** how often each instance is sampled (cgroup CPU and memory, the gateway's counts) */
    sampleMs: number;
    /** how often the open minutes are written to the store: at most this much usage is lost on kill -9 */
    flushIntervalMs: number;
    /** the price sheet: decimal strings per unit */
    prices: {
      currency: string;
      vcpuSecond: string;
      gibSecond: string;
      millionRequests: string;
      /** share taken off idle instance time under instance-based billing, 0–1 */
      idleDiscount: string;
    };
  };
  /** the per-service history the dashboard's charts read (GET /api/v1/services/NAME/stats, docs/dashboard.md) */
  stats: {
    /** one step of the history: requests, latency, instances and cold starts are kept per step; at least 100 */
    stepMs: number;
  };
  /** projects' monthly budgets (docs/projects.md, "Budgets") */
  budgets: {
    /** how often every budget is evaluated (spend, thresholds, cap or stop); at least 1 */
    intervalSeconds: number;
  };
  events: {
    /** CIDRs an async invocation's X-Skiff-Callback may reach besides public addresses (loopback,
     *  private and link-local ones are refused unless listed: a callback must not probe the host) */
    callbackNetworks: string[];
    /** pre-warm a service ahead of each cron fire (its measured cold start ahead) */
    cronPrewarm: boolean;
  };
  /** open connections to the control API and registry (--listen), counted apart from the gateway's */
  listenMaxConnections: number;
  /** services answer at NAME.<domain> on the gateway port */
  domain: string;
  logLevel: 'debug' | 'info' | 'warn' | 'error';
  /** auto: readable lines when stdout is a terminal, JSON lines otherwise (core/pretty-log.ts) */
  logFormat: 'auto' | 'json' | 'pretty';
  registry: {
    /** Largest manifest accepted; larger ones get 413. */
    maxManifestBytes: number;
    /** Upload sessions untouched for this long are removed. */
    uploadTtlSeconds: number;
    /** Blobs uploaded, mounted or checked within this window are never collected (protects in-flight pushes). */
    gcGraceSeconds: number;
    /** Scheduled garbage collection period; 0 turns it off. */
    gcIntervalSeconds: number;
  };
  runtime: {
    /** the instance driver: runc (this machine), swarm (a Docker Swarm's nodes) or hybrid (both: the
     *  first instances of a revision here, the rest on the swarm): docs/cluster.md */
    driver: 'runc' | 'swarm' | 'hybrid';
    /** Linux bridge the instances' veths attach to */
    bridge: string;
    /** instance addresses; must not overlap podman's 10.88.0.0/16 or the host's networks */
    subnet: string;
    /** prefix of Skiff's own iptables chains (independent of Docker's) */
    chainPrefix: string;
    /** instances may reach the outside world (masquerade) */
    egress: boolean;
    /** the interfaces egress may leave through; empty: those holding the host's default routes, found at start */
    egressInterfaces: string[];
    /** size of an instance's writable layer (a tmpfs: charged to its memory as well) unless its
     *  service names one (resources.disk) */
    writableLayerBytes: number;
    /** host device paths (glob patterns: /dev/dri/*) a service may pass in with --device; empty: none */
    deviceAllowList: string[];
    /** where CDI specs are read from (--device vendor/class=name, --gpu), in increasing priority */
    cdiSpecDirs: string[];
    /** the swarm driver (runtime.driver swarm): docs/cluster.md */
    swarm: {
      /** a swarm manager's Docker Engine API: unix:///PATH, tcp://HOST:PORT or https://HOST:PORT */
      dockerHost: string;
      /** for https:// engines: a directory with ca.pem, cert.pem and key.pem (Docker's DOCKER_CERT_PATH) */
      tlsCertPath: string;
      /** HOST:PORT at which the nodes reach Skiff's registry; empty: the listen address (which must
       *  then not be a loopback or wildcard address) */
      registry: string;
      /** nodes' own Engine APIs, `HOSTNAME=unix:///…|tcp://…`: freezing, CPU time and memory, listening
       *  sockets and stops with a chosen grace need them; without, those are unsupported or unknown */
      nodeHosts: string[];
      /** placement constraints every instance gets (Swarm syntax: node.labels.pool==skiff) */
      constraints: string[];
      /** the node (hostname) that holds Skiff's volumes: instances that mount one run there; empty: the manager's */
      volumeNode: string;
      /** how long a stop without a node engine lets the process end before SIGKILL */
      stopGraceMs: number;
      /** share of an instance's CPU limit reserved on its node, 0–1 (memory is reserved whole) */
      cpuReservation: number;
    };
    /** the hybrid driver (runtime.driver hybrid): which instances run on this machine */
    hybrid: {
      /** the first N instances of each revision run here (the fast first responders) */
      localPerRevision: number;
      /** at most this many instances in all run here; the rest go to the swarm */
      localMax: number;
    };
  };
  coldStart: {
    /** instances pre-created (runc create done, start pending) per revision with traffic and minScale 0 */
    poolPerRevision: number;
    /** pre-created instances on this node, all revisions together */
    poolMax: number;
    /** `skiff run` requests (image, command, env, limits) that keep a created container for their next
     *  identical run; 0 turns run spares off */
    runSpares: number;
    /** memory frozen idle instances (scaling.freezeIdle) may hold on this node; 0 turns freezing off */
    frozenMemoryBytes: number;
    /** an instance of a service without cpuAlways with no request in flight this long is frozen until
     *  its next request (CPU only during requests); 0: never */
    idleFreezeMs: number;
  };
  /** free space the data dir's filesystem keeps: below it, uploads and new instances are refused (0: off) */
  minFreeBytes: number;
  /** the adaptive keep-alive's idle-time histogram (services with scaling.keepAlive adaptive) */
  keepAlive: {
    /** width of one histogram bin */
    binMs: number;
    /** idle times longer than this fall outside the histogram */
    rangeMs: number;
    /** idle times recorded before the histogram is trusted over the fixed keep-alive */
    minSamples: number;
    /** no request for this long ends a burst (longer than the scheduler's 1 s tick) */
    quietMs: number;
  };
}

export const DEFAULT_SETTINGS: Settings = {
  dataDir: DEFAULT_DATA_DIR,
  store: '',
  listen: { host: '127.0.0.1', port: 5000 },
  gateway: { host: '0.0.0.0', port: 8080 },
  gatewayTls: '',
  registryTls: '',
  registryTlsNames: [],
  metrics: { listen: '' },
  acme: { directoryUrl: 'https://acme-v02.api.letsencrypt.org/directory', email: '', caFile: '' },
  gatewayFastPath: true,
  gatewayLimits: {
    maxConnections: 0,
    maxConnectionsPerClient: 0,
    headTimeoutMs: 5_000,
    tunnelIdleTimeoutMs: 60_000,
  },
  trustedProxies: [],
  tracing: { otlpEndpoint: '', sampleRatio: 1 },
  accessLog: false,
  metering: {
    enabled: true,
    sampleMs: 1000,
    flushIntervalMs: 10_000,
    prices: { currency: 'USD', vcpuSecond: '0.000024', gibSecond: '0.0000025', millionRequests: '0.40', idleDiscount: '0.9' },
  },
  stats: { stepMs: 10_000 },
  budgets: { intervalSeconds: 30 },
  events: { callbackNetworks: [], cronPrewarm: true },
  listenMaxConnections: 512,
  domain: 'localhost',
  logLevel: 'info',
  logFormat: 'auto',
  registry: {
    maxManifestBytes: 4 * 1024 * 1024,
    uploadTtlSeconds: 24 * 3600,
    gcGraceSeconds: 3600,
    gcIntervalSeconds: 24 * 3600,
  },
  runtime: {
    driver: 'runc',
    bridge: 'skiff0',
    subnet: '10.213.0.0/16',
    chainPrefix: 'SKIFF',
    egress: true,
    egressInterfaces: [],
    writableLayerBytes: 512 * 1024 * 1024,
    deviceAllowList: [],
    cdiSpecDirs: ['/etc/cdi', '/var/run/cdi'],
    swarm: { dockerHost: 'unix:///var/run/docker.sock', tlsCertPath: '', registry: '', nodeHosts: [], constraints: [], volumeNode: '', stopGraceMs: 10_000, cpuReservation: 0.25 },
    hybrid: { localPerRevision: 1, localMax: 8 },
  },
  coldStart: {
    poolPerRevision: 1,
    poolMax: 32,
    runSpares: 4,
    frozenMemoryBytes: 512 * 1024 * 1024,
    idleFreezeMs: 5000,
  },
  minFreeBytes: 1024 * 1024 * 1024,
  keepAlive: {
    binMs: 60_000,
    rangeMs: 4 * 3600_000,
    minSamples: 10,
    quietMs: 2000,
  },
};

/** Environment variables recognised, with the setting each one sets. */
export const ENV_SETTINGS: Record<string, string> = {
  SKIFF_DATA_DIR: 'dataDir',
  SKIFF_STORE_URL: 'store',
  SKIFF_LISTEN: 'listen',
  SKIFF_GATEWAY: 'gateway',
  SKIFF_GATEWAY_FAST_PATH: 'gatewayFastPath',
  SKIFF_GATEWAY_TLS: 'gatewayTls',
  SKIFF_REGISTRY_TLS: 'registryTls',
  SKIFF_REGISTRY_TLS_NAMES: 'registryTlsNames',
  SKIFF_METRICS_LISTEN: 'metrics.listen',
  SKIFF_ACME_DIRECTORY_URL: 'acme.directoryUrl',
  SKIFF_ACME_EMAIL: 'acme.email',
  SKIFF_ACME_CA_FILE: 'acme.caFile',
  SKIFF_GATEWAY_MAX_CONNECTIONS: 'gatewayLimits.maxConnections',
  SKIFF_GATEWAY_MAX_CONNECTIONS_PER_CLIENT: 'gatewayLimits.maxConnectionsPerClient',
  SKIFF_GATEWAY_HEAD_TIMEOUT_MS: 'gatewayLimits.headTimeoutMs',
  SKIFF_GATEWAY_TUNNEL_IDLE_TIMEOUT_MS: 'gatewayLimits.tunnelIdleTimeoutMs',
  SKIFF_TRUSTED_PROXIES: 'trustedProxies',
  SKIFF_TRACING_OTLP_ENDPOINT: 'tracing.otlpEndpoint',
  SKIFF_TRACING_SAMPLE_RATIO: 'tracing.sampleRatio',
  SKIFF_ACCESS_LOG: 'accessLog',
  SKIFF_METERING_ENABLED: 'metering.enabled',
  SKIFF_METERING_SAMPLE_MS: 'metering.sampleMs',
  SKIFF_METERING_FLUSH_INTERVAL_MS: 'metering.flushIntervalMs',
  SKIFF_METERING_PRICES_CURRENCY: 'metering.prices.currency',
  SKIFF_METERING_PRICES_VCPU_SECOND: 'metering.prices.vcpuSecond',
  SKIFF_METERING_PRICES_GIB_SECOND: 'metering.prices.gibSecond',
  SKIFF_METERING_PRICES_MILLION_REQUESTS: 'metering.prices.millionRequests',
  SKIFF_METERING_PRICES_IDLE_DISCOUNT: 'metering.prices.idleDiscount',
  SKIFF_BUDGETS_INTERVAL_SECONDS: 'budgets.intervalSeconds',
  SKIFF_STATS_STEP_MS: 'stats.stepMs',
  SKIFF_EVENTS_CALLBACK_NETWORKS: 'events.callbackNetworks',
  SKIFF_EVENTS_CRON_PREWARM: 'events.cronPrewarm',
  SKIFF_LISTEN_MAX_CONNECTIONS: 'listenMaxConnections',
  SKIFF_DOMAIN: 'domain',
  SKIFF_LOG_LEVEL: 'logLevel',
  SKIFF_LOG_FORMAT: 'logFormat',
  SKIFF_REGISTRY_MAX_MANIFEST_BYTES: 'registry.maxManifestBytes',
  SKIFF_REGISTRY_UPLOAD_TTL_SECONDS: 'registry.uploadTtlSeconds',
  SKIFF_REGISTRY_GC_GRACE_SECONDS: 'registry.gcGraceSeconds',
  SKIFF_REGISTRY_GC_INTERVAL_SECONDS: 'registry.gcIntervalSeconds',
  SKIFF_RUNTIME_DRIVER: 'runtime.driver',
  SKIFF_RUNTIME_BRIDGE: 'runtime.bridge',
  SKIFF_RUNTIME_SUBNET: 'runtime.subnet',
  SKIFF_RUNTIME_CHAIN_PREFIX: 'runtime.chainPrefix',
  SKIFF_RUNTIME_EGRESS: 'runtime.egress',
  SKIFF_RUNTIME_EGRESS_INTERFACES: 'runtime.egressInterfaces',
  SKIFF_RUNTIME_WRITABLE_LAYER_BYTES: 'runtime.writableLayerBytes',
  SKIFF_RUNTIME_DEVICE_ALLOW_LIST: 'runtime.deviceAllowList',
  SKIFF_RUNTIME_CDI_SPEC_DIRS: 'runtime.cdiSpecDirs',
  SKIFF_RUNTIME_DOCKER_HOST: 'runtime.swarm.dockerHost',
  SKIFF_RUNTIME_SWARM_TLS_CERT_PATH: 'runtime.swarm.tlsCertPath',
  SKIFF_RUNTIME_SWARM_REGISTRY: 'runtime.swarm.registry',
  SKIFF_RUNTIME_SWARM_NODE_HOSTS: 'runtime.swarm.nodeHosts',
  SKIFF_RUNTIME_SWARM_CONSTRAINTS: 'runtime.swarm.constraints',
  SKIFF_RUNTIME_SWARM_VOLUME_NODE: 'runtime.swarm.volumeNode',
  SKIFF_RUNTIME_SWARM_STOP_GRACE_MS: 'runtime.swarm.stopGraceMs',
  SKIFF_RUNTIME_SWARM_CPU_RESERVATION: 'runtime.swarm.cpuReservation',
  SKIFF_RUNTIME_HYBRID_LOCAL_PER_REVISION: 'runtime.hybrid.localPerRevision',
  SKIFF_RUNTIME_HYBRID_LOCAL_MAX: 'runtime.hybrid.localMax',
  SKIFF_COLD_START_POOL_PER_REVISION: 'coldStart.poolPerRevision',
  SKIFF_COLD_START_POOL_MAX: 'coldStart.poolMax',
  SKIFF_COLD_START_RUN_SPARES: 'coldStart.runSpares',
  SKIFF_COLD_START_FROZEN_MEMORY_BYTES: 'coldStart.frozenMemoryBytes',
  SKIFF_COLD_START_IDLE_FREEZE_MS: 'coldStart.idleFreezeMs',
  SKIFF_MIN_FREE_BYTES: 'minFreeBytes',
  SKIFF_KEEP_ALIVE_BIN_MS: 'keepAlive.binMs',
  SKIFF_KEEP_ALIVE_RANGE_MS: 'keepAlive.rangeMs',
  SKIFF_KEEP_ALIVE_MIN_SAMPLES: 'keepAlive.minSamples',
  SKIFF_KEEP_ALIVE_QUIET_MS: 'keepAlive.quietMs',
};

/** Settings that take one of a few words. */
const CHOICES: Record<string, readonly string[]> = {
  logLevel: ['debug', 'info', 'warn', 'error'],
  logFormat: ['auto', 'json', 'pretty'],
  'runtime.driver': ['runc', 'swarm', 'hybrid'],
};

export function parseHostPort(value: string, setting: string): HostPort {
  const m = /^(?:\[([^\]]+)\]|([^:]*)):(\d{1,5})$/.exec(value.trim());
  const port = m ? Number(m[3]) : NaN;
  if (!m || !(port >= 0 && port <= 65535)) {
    throw new SkiffError('CONFIG_INVALID', `${setting}: expected HOST:PORT, got ${JSON.stringify(value)}`);
  }
  return { host: m[1] ?? (m[2] || '0.0.0.0'), port };
}

/** `ADDRESS/BITS` (or a bare address: one host), IPv4 or IPv6, as net.BlockList.addSubnet takes it. */
export function parseCidr(value: string, setting: string): { address: string; prefix: number; family: 'ipv4' | 'ipv6' } {
  const [address = '', bits, extra] = value.trim().split('/');
  const version = isIP(address);
  const max = version === 4 ? 32 : 128;
  const prefix = bits === undefined ? max : /^\d{1,3}$/.test(bits) ? Number(bits) : NaN;
  if (version === 0 || extra !== undefined || !(prefix >= 0 && prefix <= max)) {
    throw new SkiffError('CONFIG_INVALID', `${setting}: expected a CIDR such as 10.0.0.0/8 or fd00::/8, got ${JSON.stringify(value)}`);
  }
  return { address, prefix, family: version === 4 ? 'ipv4' : 'ipv6' };
}

/** A name a certificate may carry as a subjectAltName: an IP address or a DNS name (registryTlsNames). */
function parseCertificateName(value: string, setting: string): string {
  const dns = /^(?=.{1,253}$)[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/i;
  if (isIP(value) === 0 && !dns.test(value)) throw new SkiffError('CONFIG_INVALID', `${setting}: expected DNS names or IP addresses such as registry.example.com or 10.0.0.5, got ${JSON.stringify(value)}`);
  return value;
}

/** A Linux interface name (IFNAMSIZ: at most 15 bytes; no slash, colon or whitespace). */
function parseInterfaceName(value: string, setting: string): string {
  if (!/^[^\s/:]{1,15}$/.test(value)) throw new SkiffError('CONFIG_INVALID', `${setting}: expected network interface names such as eth0, got ${JSON.stringify(value)}`);
  return value;
}

/** `HOSTNAME=unix:///PATH|tcp://HOST:PORT` (runtime.swarm.nodeHosts). */
export function parseNodeHost(entry: string, setting: string): { hostname: string; host: string } {
  const m = /^([A-Za-z0-9][A-Za-z0-9.-]{0,252})=((?:unix|tcp|http|https):\/\/\S+)$/.exec(entry);
  if (!m) throw new SkiffError('CONFIG_INVALID', `${setting}: expected HOSTNAME=unix:///PATH or HOSTNAME=tcp://HOST:PORT, got ${JSON.stringify(entry)}`);
  return { hostname: m[1]!, host: m[2]! };
}

/** Listeners that are off unless given a HOST:PORT (`off` or empty: off). */
const OPTIONAL_LISTENERS: ReadonlySet<string> = new Set(['gatewayTls', 'registryTls', 'metrics.listen']);

function setPath(target: Record<string, unknown>, dotted: string, raw: unknown): void {
  const keys = dotted.split('.');
  let obj = target;
  for (const k of keys.slice(0, -1)) obj = obj[k] as Record<string, unknown>;
  const last = keys[keys.length - 1]!;
  const current = obj[last];
  if (current === undefined) throw new SkiffError('CONFIG_INVALID', `unknown setting ${dotted}`);
  if (typeof current === 'boolean') {
    const v = String(raw).toLowerCase();
    if (!['true', 'false', '1', '0', 'yes', 'no'].includes(v)) throw new SkiffError('CONFIG_INVALID', `${dotted}: expected true or false, got ${JSON.stringify(raw)}`);
    obj[last] = ['true', '1', 'yes'].includes(v);
  } else if (typeof current === 'number') {
    const n = Number(raw);
    if (!Number.isFinite(n) || n < 0) throw new SkiffError('CONFIG_INVALID', `${dotted}: expected a non-negative number, got ${JSON.stringify(raw)}`);
    if ((dotted === 'metering.sampleMs' || dotted === 'metering.flushIntervalMs' || dotted === 'stats.stepMs') && n < 100) throw new SkiffError('CONFIG_INVALID', `${dotted}: expected at least 100 (ms), got ${JSON.stringify(raw)}`);
    if (dotted === 'budgets.intervalSeconds' && n < 1) throw new SkiffError('CONFIG_INVALID', `${dotted}: expected at least 1 (s), got ${JSON.stringify(raw)}`);
    if (dotted === 'runtime.swarm.cpuReservation' && n > 1) throw new SkiffError('CONFIG_INVALID', `${dotted}: expected a share from 0 to 1, got ${JSON.stringify(raw)}`);
    if (dotted === 'tracing.sampleRatio' && n > 1) throw new SkiffError('CONFIG_INVALID', `${dotted}: expected a number from 0 to 1, got ${JSON.stringify(raw)}`);
    obj[last] = n;
  } else if (Array.isArray(current)) {
    const list = Array.isArray(raw) ? raw.map(String) : String(raw).split(',').map((v) => v.trim()).filter((v) => v !== '');
    if (dotted === 'trustedProxies' || dotted === 'events.callbackNetworks') for (const cidr of list) parseCidr(cidr, dotted);
    if (dotted === 'runtime.egressInterfaces') for (const name of list) parseInterfaceName(name, dotted);
    if (dotted === 'runtime.swarm.nodeHosts') for (const entry of list) parseNodeHost(entry, dotted);
    if (dotted === 'runtime.swarm.constraints') {
      list.forEach((c, i) => {
        try {
          list[i] = parseConstraint(c, `${dotted}[${i}]`);
        } catch (err) {
          throw new SkiffError('CONFIG_INVALID', (err as Error).message);
        }
      });
    }
    if (dotted === 'registryTlsNames') for (const name of list) parseCertificateName(name, dotted);
    if (dotted === 'runtime.deviceAllowList' || dotted === 'runtime.cdiSpecDirs') {
      for (const p of list) if (!p.startsWith('/') || p.split('/').includes('..')) throw new SkiffError('CONFIG_INVALID', `${dotted}: expected absolute paths${dotted === 'runtime.deviceAllowList' ? ' (or patterns such as /dev/dri/*)' : ''}, got ${JSON.stringify(p)}`);
    }
    obj[last] = list;
  } else if (typeof current === 'object') {
    obj[last] = typeof raw === 'string' ? parseHostPort(raw, dotted) : raw;
  } else {
    const allowed = CHOICES[dotted];
    if (allowed && !allowed.includes(String(raw))) {
      throw new SkiffError('CONFIG_INVALID', `${dotted}: expected ${allowed.join('|')}, got ${JSON.stringify(raw)}`);
    }
    if (OPTIONAL_LISTENERS.has(dotted) && String(raw).trim() !== '' && String(raw).trim() !== 'off') parseHostPort(String(raw), dotted);
    if (dotted === 'tracing.otlpEndpoint' && String(raw) !== '' && !/^https?:\/\/[^\s]+$/.test(String(raw))) throw new SkiffError('CONFIG_INVALID', `${dotted}: expected an http(s):// URL, got ${JSON.stringify(raw)}`);
    // prices are decimal text, never floats: 0.000024 stays exactly that on an invoice
    if (dotted.startsWith('metering.prices.') && dotted !== 'metering.prices.currency' && !/^\d+(\.\d+)?$/.test(String(raw).trim())) throw new SkiffError('CONFIG_INVALID', `${dotted}: expected a decimal number such as 0.000024, got ${JSON.stringify(raw)}`);
    if (dotted === 'metering.prices.idleDiscount' && Number(raw) > 1) throw new SkiffError('CONFIG_INVALID', `${dotted}: expected a share from 0 to 1, got ${JSON.stringify(raw)}`);
    if (dotted === 'runtime.swarm.dockerHost' && !/^(?:unix:\/\/\/\S+|(?:tcp|http|https):\/\/(?:[^\s/:[\]]+|\[[0-9a-fA-F:.]+\]):\d{1,5}\/?)$/.test(String(raw))) throw new SkiffError('CONFIG_INVALID', `${dotted} (--docker-host): expected unix:///PATH, tcp://HOST:PORT or https://HOST:PORT, got ${JSON.stringify(raw)}`);
    if (dotted === 'acme.directoryUrl' && !/^https?:\/\/[^\s]+$/.test(String(raw))) throw new SkiffError('CONFIG_INVALID', `${dotted}: expected an http(s):// URL, got ${JSON.stringify(raw)}`);
    obj[last] = OPTIONAL_LISTENERS.has(dotted) && String(raw).trim() === 'off' ? '' : String(raw);
  }
}

function flatten(obj: Record<string, unknown>, prefix = ''): Array<[string, unknown]> {
  return Object.entries(obj).flatMap(([k, v]) => {
    const key = prefix + k;
    const isNested = v !== null && typeof v === 'object' && !('port' in (v as object)) && !Array.isArray(v);
    return isNested ? flatten(v as Record<string, unknown>, key + '.') : [[key, v] as [string, unknown]];
  });
}

/**
 * The network names of a daemon on `dataDir` (not the default one): bridge `sk<6 hex>`, firewall chain
 * prefix `SK<6 HEX>` (also its nftables tables), and a /24 in 10.224.0.0/12 — apart from the default
 * daemon's 10.213.0.0/16 and podman's 10.88.0.0/16 —, all from a hash of the directory's path, so
 * they stay the same across restarts (instances are re-adopted on them).
 */
export function networkNamesFor(dataDir: string): Pick<Settings['runtime'], 'bridge' | 'subnet' | 'chainPrefix'> {
  const h = createHash('sha256').update(path.resolve(dataDir)).digest();
  const hex = h.subarray(0, 3).toString('hex');
  return { bridge: `sk${hex}`, chainPrefix: `SK${hex.toUpperCase()}`, subnet: `10.${224 + (h[3]! % 16)}.${h[4]!}.0/24` };
}

/** Builds settings from defaults, then an optional YAML/JSON file, then env, then flags (later wins). */
export function loadSettings(opts: { file?: string; env?: NodeJS.ProcessEnv; flags?: Record<string, string | undefined> }): Settings {
  const settings = structuredClone(DEFAULT_SETTINGS) as unknown as Record<string, unknown>;
  /** the settings given (file, env, flags), as opposed to defaults */
  const given = new Set<string>();
  const set = (key: string, value: unknown) => {
    setPath(settings, key, value);
    given.add(key);
  };
  if (opts.file) {
    let parsed: unknown;
    try {
      parsed = YAML.parse(readFileSync(opts.file, 'utf8'));
    } catch (err) {
      throw new SkiffError('CONFIG_INVALID', `cannot read config file ${opts.file}: ${(err as Error).message}`);
    }
    if (parsed !== null && typeof parsed === 'object') {
      for (const [k, v] of flatten(parsed as Record<string, unknown>)) set(k, v);
    }
  }
  const env = opts.env ?? {};
  for (const [name, key] of Object.entries(ENV_SETTINGS)) {
    const v = env[name];
    if (v !== undefined && v !== '') set(key, v);
  }
  for (const [k, v] of Object.entries(opts.flags ?? {})) if (v !== undefined) set(k, v);
  const result = settings as unknown as Settings;
  result.dataDir = path.resolve(result.dataDir);
  // A daemon on another data dir gets a network of its own unless one was given, so two daemons on
  // one host never share a bridge, subnet or firewall chains by default.
  if (result.dataDir !== DEFAULT_DATA_DIR) {
    const own = networkNamesFor(result.dataDir);
    for (const key of ['bridge', 'subnet', 'chainPrefix'] as const) if (!given.has(`runtime.${key}`)) result.runtime[key] = own[key];
  }
  return result;
}
