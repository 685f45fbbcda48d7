// runtime/devices/devices: a service's device requests (core/devices.ts) turned into edits of an
// instance's OCI config, and the node's rules for them:
//
//   /dev/PATH[:rwm]        → allowed only when the path (and the node it resolves to) matches a pattern
//                            of runtime.deviceAllowList; must be a character or block device. Becomes a
//                            linux.devices entry (type, major, minor read from the host node) plus a
//                            linux.resources.devices allow rule with the access asked for.
//   vendor/class=name|all  → a device of a CDI spec the admin installed (runtime.cdiSpecDirs): the
//   --gpu N                  spec's and the device's containerEdits (device nodes, mounts, env, hooks).
//                            `--gpu N` = the first N devices of kind nvidia.com/gpu, in name order.
//
// resolveDevices reads the host (stat, spec files); applyDeviceEdits is pure and is what bundle.ts uses.
import { promises as fsp } from 'node:fs';
import { SkiffError } from '../../core/errors.ts';
import { GPU_CDI_KIND, deviceRequestText, splitCdiName, type DeviceRequest } from '../../core/devices.ts';
import { byDeviceName, loadCdiSpecs, type CdiContainerEdits, type CdiHookName, type CdiRegistry, type CdiSpec } from './cdi.ts';

/** An OCI linux.devices entry. */
export interface OciDevice {
  path: string;
  type: 'c' | 'b' | 'u' | 'p';
  major: number;
  minor: number;
  fileMode?: number;
  uid?: number;
  gid?: number;
}

/** An OCI linux.resources.devices rule. */
export interface OciDeviceRule {
  allow: boolean;
  type?: 'c' | 'b' | 'a';
  major?: number;
  minor?: number;
  access: string;
}

export interface OciHook {
  path: string;
  args?: string[];
  env?: string[];
  timeout?: number;
}

export type OciHookName = Exclude<CdiHookName, 'poststart'> | 'poststart';

/** Everything a container's config gains from its devices; JSON (kept in the container's record). */
export interface DeviceEdits {
  devices: OciDevice[];
  rules: OciDeviceRule[];
  mounts: Array<{ destination: string; type: string; source: string; options: string[] }>;
  env: string[];
  hooks: Partial<Record<OciHookName, OciHook[]>>;
  additionalGids: number[];
}

export interface DevicePolicy {
  /** glob patterns of host device paths that may be passed through (`*` within a path segment, `**` across) */
  allowList: readonly string[];
  /** CDI spec directories, in increasing priority */
  cdiDirs: readonly string[];
}

export const DEFAULT_CDI_DIRS = ['/etc/cdi', '/var/run/cdi'] as const;

/** A device-allow-list pattern as a RegExp: `**` any characters, `*` any but `/`, `?` one but `/`. */
export function globRegExp(pattern: string): RegExp {
  let re = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === '*' && pattern[i + 1] === '*') {
      re += '.*';
      i++;
    } else if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else re += c.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}

export const allowedBy = (allowList: readonly string[], p: string): boolean => allowList.some((pattern) => globRegExp(pattern).test(p));

/** Linux's dev_t split (glibc gnu_dev_major/minor): works for 32- and 64-bit encodings. */
export function majorMinor(rdev: bigint): { major: number; minor: number } {
  const major = ((rdev >> 8n) & 0xfffn) | ((rdev >> 32n) & ~0xfffn);
  const minor = (rdev & 0xffn) | ((rdev >> 12n) & ~0xffn);
  return { major: Number(major), minor: Number(minor) };
}

/** What a host path is: a character or block device with its numbers, or why not. */
export async function statDevice(p: string): Promise<{ type: 'c' | 'b'; major: number; minor: number; real: string } | { problem: string }> {
  let st;
  try {
    st = await fsp.stat(p, { bigint: true });
  } catch (err) {
    return { problem: (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'does not exist on this node' : `cannot be read (${(err as NodeJS.ErrnoException).code})` };
  }
  if (!st.isCharacterDevice() && !st.isBlockDevice()) return { problem: 'is not a character or block device' };
  const real = await fsp.realpath(p).catch(() => p);
  return { type: st.isCharacterDevice() ? 'c' : 'b', ...majorMinor(st.rdev), real };
}

const emptyEdits = (): DeviceEdits => ({ devices: [], rules: [], mounts: [], env: [], hooks: {}, additionalGids: [] });

/** `--device` or `devices[i]`, as errors name it */
const named = (r: DeviceRequest, i: number) => `--device ${deviceRequestText(r)} (devices[${i}])`;

/**
 * The edits for a service's device requests and GPU count on this node. DEVICE_REFUSED, naming the
 * flag and the device, for a host device outside the allow-list, missing, or not a device node; for a
 * CDI name no installed spec defines (the message lists the ones that exist); for more GPUs than the
 * node's specs define.
 */
export async function resolveDevices(requests: readonly DeviceRequest[], gpus: number, policy: DevicePolicy, registry?: CdiRegistry): Promise<DeviceEdits> {
  const edits = emptyEdits();
  const cdiNames: string[] = [];
  for (const [i, r] of requests.entries()) {
    if (r.kind === 'cdi') {
      cdiNames.push(r.name);
      continue;
    }
    if (!allowedBy(policy.allowList, r.path)) {
      throw new SkiffError('DEVICE_REFUSED', `${named(r, i)}: ${r.path} is not in this node's device allow-list (runtime.deviceAllowList${policy.allowList.length ? `: ${policy.allowList.join(', ')}` : ', empty'})`);
    }
    const st = await statDevice(r.path);
    if ('problem' in st) throw new SkiffError('DEVICE_REFUSED', `${named(r, i)}: ${r.path} ${st.problem}`);
    if (st.real !== r.path && !allowedBy(policy.allowList, st.real)) {
      throw new SkiffError('DEVICE_REFUSED', `${named(r, i)}: ${r.path} leads to ${st.real}, which is not in this node's device allow-list (runtime.deviceAllowList)`);
    }
    addNode(edits, { path: r.containerPath ?? r.path, type: st.type, major: st.major, minor: st.minor }, r.access);
  }
  if (cdiNames.length === 0 && gpus === 0) return edits;
  const reg = registry ?? (await loadCdiSpecs(policy.cdiDirs));
  const wanted = selectCdiDevices(reg, cdiNames, gpus, policy.cdiDirs);
  await applyCdi(edits, wanted);
  return edits;
}

/** The CDI devices requested, by qualified name, deduplicated, in request order (then the GPUs). */
export function selectCdiDevices(reg: CdiRegistry, names: readonly string[], gpus: number, dirs: readonly string[] = DEFAULT_CDI_DIRS): Array<{ name: string; spec: CdiSpec; device: CdiSpec['devices'][number] }> {
  const out = new Map<string, { name: string; spec: CdiSpec; device: CdiSpec['devices'][number] }>();
  const available = () => {
    const all = [...reg.devices.keys()].sort(byDeviceName);
    const where = `in ${dirs.join(', ')}`;
    const broken = reg.errors.length ? `; spec files not used: ${reg.errors.join('; ')}` : '';
    return all.length ? `CDI devices on this node: ${all.join(', ')}${broken}` : `no CDI spec defines any device ${where}${broken}`;
  };
  for (const name of names) {
    const split = splitCdiName(name)!;
    const kindNames = reg.kinds.get(split.kind) ?? [];
    const picked = split.device === 'all' ? kindNames : [split.device];
    if (picked.length === 0 || picked.some((d) => !reg.devices.has(`${split.kind}=${d}`))) {
      throw new SkiffError('DEVICE_REFUSED', `--device ${name}: no such CDI device (${available()})`);
    }
    for (const d of picked) out.set(`${split.kind}=${d}`, { name: `${split.kind}=${d}`, ...reg.devices.get(`${split.kind}=${d}`)! });
  }
  if (gpus > 0) {
    const kindNames = reg.kinds.get(GPU_CDI_KIND) ?? [];
    if (kindNames.length < gpus) throw new SkiffError('DEVICE_REFUSED', `--gpu ${gpus} (gpus): this node has ${kindNames.length} ${GPU_CDI_KIND} device(s) (${available()})`);
    for (const d of kindNames.slice(0, gpus)) out.set(`${GPU_CDI_KIND}=${d}`, { name: `${GPU_CDI_KIND}=${d}`, ...reg.devices.get(`${GPU_CDI_KIND}=${d}`)! });
  }
  return [...out.values()];
}

function addNode(edits: DeviceEdits, node: OciDevice, access: string): void {
  const existing = edits.devices.findIndex((d) => d.path === node.path);
  if (existing >= 0) edits.devices.splice(existing, 1);
  edits.devices.push(node);
  if (node.type === 'c' || node.type === 'b') edits.rules.push({ allow: true, type: node.type, major: node.major, minor: node.minor, access });
}

/** Applies each spec's own edits once (for the first of its devices), then each device's. */
async function applyCdi(edits: DeviceEdits, wanted: ReturnType<typeof selectCdiDevices>): Promise<void> {
  const specsDone = new Set<CdiSpec>();
  for (const w of wanted) {
    if (!specsDone.has(w.spec)) {
      specsDone.add(w.spec);
      if (w.spec.containerEdits) await applyContainerEdits(edits, w.spec.containerEdits, `${w.name} (${w.spec.source ?? w.spec.kind})`);
    }
    await applyContainerEdits(edits, w.device.containerEdits, `${w.name} (${w.spec.source ?? w.spec.kind})`);
  }
}

async function applyContainerEdits(edits: DeviceEdits, e: CdiContainerEdits, what: string): Promise<void> {
  for (const n of e.deviceNodes ?? []) {
    const host = n.hostPath ?? n.path;
    const st = await statDevice(host);
    if ('problem' in st) throw new SkiffError('DEVICE_REFUSED', `--device ${what}: its device node ${host} ${st.problem}`);
    addNode(edits, { path: n.path, type: n.type ?? st.type, major: n.major ?? st.major, minor: n.minor ?? st.minor, ...(n.fileMode !== undefined ? { fileMode: n.fileMode } : {}), ...(n.uid !== undefined ? { uid: n.uid } : {}), ...(n.gid !== undefined ? { gid: n.gid } : {}) }, n.permissions ?? 'rwm');
  }
  for (const m of e.mounts ?? []) edits.mounts.push(cdiMount(m));
  for (const env of e.env ?? []) edits.env.push(env);
  for (const h of e.hooks ?? []) {
    if (h.hookName === 'poststart') {
      // instances start through runc's exec FIFO, not `runc start`, which is what runs poststart hooks
      throw new SkiffError('DEVICE_REFUSED', `--device ${what}: its spec has a poststart hook (${h.path}), which Skiff does not run`);
    }
    (edits.hooks[h.hookName] ??= []).push({ path: h.path, ...(h.args ? { args: h.args } : {}), ...(h.env ? { env: h.env } : {}), ...(h.timeout ? { timeout: h.timeout } : {}) });
  }
  for (const g of e.additionalGids ?? []) if (!edits.additionalGids.includes(g)) edits.additionalGids.push(g);
}

/** A CDI mount as an OCI mount: a bind unless it names a type; a bind gets rbind unless it says bind. */
export function cdiMount(m: { hostPath: string; containerPath: string; options?: string[]; type?: string }): DeviceEdits['mounts'][number] {
  const type = m.type ?? 'bind';
  const options = [...(m.options ?? [])];
  if (type === 'bind' && !options.includes('bind') && !options.includes('rbind')) options.unshift('rbind');
  return { destination: m.containerPath, type, source: m.hostPath, options };
}

/** The OCI config pieces device edits touch. */
export interface DeviceTarget {
  process: Record<string, unknown> & { env?: string[]; user?: { additionalGids?: number[] } };
  mounts: Array<{ destination: string; type: string; source: string; options?: string[] }>;
  linux: Record<string, unknown> & { devices?: OciDevice[]; resources?: Record<string, unknown> & { devices?: OciDeviceRule[] } };
  hooks?: Partial<Record<OciHookName, OciHook[]>>;
}

/**
 * Pure: `config` with the edits applied — device nodes into linux.devices, allow rules after the
 * deny-all rule, mounts after the others (a later one of the same destination wins), env over the
 * process env (a KEY given again is replaced), hooks appended by kind, additional gids added.
 */
export function applyDeviceEdits<T extends DeviceTarget>(config: T, edits: DeviceEdits | undefined): T {
  if (!edits) return config;
  const env = [...(config.process.env ?? [])];
  for (const e of edits.env) {
    const key = e.slice(0, e.indexOf('=') + 1);
    const at = env.findIndex((x) => x.startsWith(key));
    if (at >= 0) env[at] = e;
    else env.push(e);
  }
  const user = config.process.user ? { ...config.process.user, additionalGids: [...new Set([...(config.process.user.additionalGids ?? []), ...edits.additionalGids])] } : config.process.user;
  const hooks: Partial<Record<OciHookName, OciHook[]>> = { ...(config.hooks ?? {}) };
  for (const [name, list] of Object.entries(edits.hooks) as Array<[OciHookName, OciHook[]]>) hooks[name] = [...(hooks[name] ?? []), ...list];
  const resources = config.linux.resources ?? {};
  return {
    ...config,
    process: { ...config.process, env, ...(user ? { user } : {}) },
    mounts: [...config.mounts, ...edits.mounts],
    linux: {
      ...config.linux,
      devices: [...(config.linux.devices ?? []), ...edits.devices],
      resources: { ...resources, devices: [...(resources.devices ?? []), ...edits.rules] },
    },
    ...(Object.keys(hooks).length ? { hooks } : {}),
  };
}

/** Whether any edit is there to apply (no edits: the config stays exactly as before). */
export const hasEdits = (e: DeviceEdits): boolean => e.devices.length + e.mounts.length + e.env.length + e.additionalGids.length + Object.keys(e.hooks).length > 0;
