// runtime/devices/cdi: Container Device Interface specs (github.com/cncf-tags/container-device-interface,
// SPEC.md, cdiVersion 0.3.0 – 0.8.0) — the JSON or YAML files a vendor's tooling (nvidia-ctk cdi
// generate) writes to /etc/cdi and /var/run/cdi — parsed and validated, and the devices they define
// looked up by fully qualified name (`vendor/class=name`). Parsing is pure; loadCdiSpecs reads the dirs.
//
//   cdiVersion: 0.6.0
//   kind: nvidia.com/gpu
//   devices:
//     - name: "0"
//       containerEdits: { deviceNodes: [{ path: /dev/nvidia0 }] }
//   containerEdits:                       ← applied once when any device of the spec is requested
//     env: [NVIDIA_VISIBLE_DEVICES=void]
//     deviceNodes: [{ path: /dev/nvidiactl }]
//     mounts: [{ hostPath: /usr/lib/x86_64-linux-gnu/libcuda.so.1, containerPath: …, options: [ro, nosuid, nodev, bind] }]
//     hooks: [{ hookName: createContainer, path: /usr/bin/nvidia-ctk, args: [nvidia-ctk, hook, update-ldcache] }]
import { existsSync, promises as fsp } from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';
import { CDI_DEVICE_NAME_RE, CDI_KIND_RE } from '../../core/devices.ts';

export const CDI_VERSIONS = ['0.3.0', '0.4.0', '0.5.0', '0.6.0', '0.7.0', '0.8.0'] as const;

export type CdiHookName = 'createRuntime' | 'createContainer' | 'startContainer' | 'poststart' | 'poststop' | 'prestart';
export const CDI_HOOK_NAMES: readonly CdiHookName[] = ['prestart', 'createRuntime', 'createContainer', 'startContainer', 'poststart', 'poststop'];

export interface CdiDeviceNode {
  /** path inside the container */
  path: string;
  /** path on the host (default: `path`) */
  hostPath?: string;
  type?: 'c' | 'b' | 'u' | 'p';
  major?: number;
  minor?: number;
  fileMode?: number;
  /** cgroup access, letters of rwm (default rwm) */
  permissions?: string;
  uid?: number;
  gid?: number;
}

export interface CdiMount {
  hostPath: string;
  containerPath: string;
  options?: string[];
  type?: string;
}

export interface CdiHook {
  hookName: CdiHookName;
  path: string;
  args?: string[];
  env?: string[];
  timeout?: number;
}

export interface CdiContainerEdits {
  env?: string[];
  deviceNodes?: CdiDeviceNode[];
  mounts?: CdiMount[];
  hooks?: CdiHook[];
  additionalGids?: number[];
}

export interface CdiSpec {
  cdiVersion: string;
  kind: string;
  devices: Array<{ name: string; containerEdits: CdiContainerEdits }>;
  containerEdits?: CdiContainerEdits;
  /** the file it was read from */
  source?: string;
}

class CdiInvalid extends Error {}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function fail(where: string, what: string): never {
  throw new CdiInvalid(`${where}: ${what}`);
}

function str(v: unknown, where: string): string {
  if (typeof v !== 'string' || v === '') fail(where, 'expected a non-empty string');
  return v;
}

function absPath(v: unknown, where: string): string {
  const s = str(v, where);
  if (!path.isAbsolute(s) || s.split('/').includes('..')) fail(where, `expected an absolute path without .., got ${JSON.stringify(s)}`);
  return s;
}

function uint(v: unknown, where: string): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) fail(where, `expected a non-negative integer, got ${JSON.stringify(v)}`);
  return v;
}

function strings(v: unknown, where: string): string[] {
  if (!Array.isArray(v) || v.some((s) => typeof s !== 'string')) fail(where, 'expected a list of strings');
  return v as string[];
}

function envList(v: unknown, where: string): string[] {
  const list = strings(v, where);
  list.forEach((e, i) => {
    if (!/^[^=\s]+=/.test(e)) fail(`${where}[${i}]`, `expected KEY=VALUE, got ${JSON.stringify(e)}`);
  });
  return list;
}

function list<T>(v: unknown, where: string, each: (item: unknown, where: string) => T): T[] {
  if (!Array.isArray(v)) fail(where, 'expected a list');
  return v.map((item, i) => each(item, `${where}[${i}]`));
}

function deviceNode(v: unknown, where: string): CdiDeviceNode {
  if (!isObject(v)) fail(where, 'expected an object');
  const node: CdiDeviceNode = { path: absPath(v.path, `${where}.path`) };
  if (v.hostPath !== undefined) node.hostPath = absPath(v.hostPath, `${where}.hostPath`);
  if (v.type !== undefined) {
    if (!['c', 'b', 'u', 'p'].includes(v.type as string)) fail(`${where}.type`, `expected c, b, u or p, got ${JSON.stringify(v.type)}`);
    node.type = v.type as CdiDeviceNode['type'];
  }
  if (v.major !== undefined) node.major = uint(v.major, `${where}.major`);
  if (v.minor !== undefined) node.minor = uint(v.minor, `${where}.minor`);
  if (v.fileMode !== undefined) node.fileMode = uint(v.fileMode, `${where}.fileMode`);
  if (v.uid !== undefined) node.uid = uint(v.uid, `${where}.uid`);
  if (v.gid !== undefined) node.gid = uint(v.gid, `${where}.gid`);
  if (v.permissions !== undefined && v.permissions !== '') {
    const p = str(v.permissions, `${where}.permissions`);
    if (!/^[rwm]{1,3}$/.test(p) || new Set(p).size !== p.length) fail(`${where}.permissions`, `expected letters of rwm, got ${JSON.stringify(p)}`);
    node.permissions = p;
  }
  return node;
}

function mount(v: unknown, where: string): CdiMount {
  if (!isObject(v)) fail(where, 'expected an object');
  const m: CdiMount = { hostPath: str(v.hostPath, `${where}.hostPath`), containerPath: absPath(v.containerPath, `${where}.containerPath`) };
  if (v.options !== undefined) m.options = strings(v.options, `${where}.options`);
  if (v.type !== undefined) m.type = str(v.type, `${where}.type`);
  return m;
}

function hook(v: unknown, where: string): CdiHook {
  if (!isObject(v)) fail(where, 'expected an object');
  const name = v.hookName;
  if (!CDI_HOOK_NAMES.includes(name as CdiHookName)) fail(`${where}.hookName`, `expected one of ${CDI_HOOK_NAMES.join(', ')}, got ${JSON.stringify(name)}`);
  const h: CdiHook = { hookName: name as CdiHookName, path: absPath(v.path, `${where}.path`) };
  if (v.args !== undefined) h.args = strings(v.args, `${where}.args`);
  if (v.env !== undefined) h.env = envList(v.env, `${where}.env`);
  if (v.timeout !== undefined && v.timeout !== null) {
    if (typeof v.timeout !== 'number' || !Number.isSafeInteger(v.timeout) || v.timeout <= 0) fail(`${where}.timeout`, 'expected a positive number of seconds');
    h.timeout = v.timeout;
  }
  return h;
}

function containerEdits(v: unknown, where: string): CdiContainerEdits {
  if (!isObject(v)) fail(where, 'expected an object');
  const e: CdiContainerEdits = {};
  if (v.env != null) e.env = envList(v.env, `${where}.env`);
  if (v.deviceNodes != null) e.deviceNodes = list(v.deviceNodes, `${where}.deviceNodes`, deviceNode);
  if (v.mounts != null) e.mounts = list(v.mounts, `${where}.mounts`, mount);
  if (v.hooks != null) e.hooks = list(v.hooks, `${where}.hooks`, hook);
  if (v.additionalGids != null) e.additionalGids = list(v.additionalGids, `${where}.additionalGids`, uint);
  // intelRdt (and anything newer) changes what runs beside the process: not applied, so refused rather than ignored
  const known = new Set(['env', 'deviceNodes', 'mounts', 'hooks', 'additionalGids']);
  for (const k of Object.keys(v)) if (!known.has(k) && v[k] != null) fail(`${where}.${k}`, 'not supported by Skiff');
  return e;
}

/** A parsed spec document (JSON or YAML object) validated; throws with the field at fault. */
export function validateCdiSpec(doc: unknown, source = 'spec'): CdiSpec {
  try {
    if (!isObject(doc)) fail(source, 'expected an object');
    const version = str(doc.cdiVersion, `${source}: cdiVersion`);
    if (!(CDI_VERSIONS as readonly string[]).includes(version)) fail(`${source}: cdiVersion`, `${JSON.stringify(version)} is not one of ${CDI_VERSIONS.join(', ')}`);
    const kind = str(doc.kind, `${source}: kind`);
    if (!CDI_KIND_RE.test(kind)) fail(`${source}: kind`, `expected vendor/class (e.g. nvidia.com/gpu), got ${JSON.stringify(kind)}`);
    if (!Array.isArray(doc.devices) || doc.devices.length === 0) fail(`${source}: devices`, 'expected a non-empty list');
    const seen = new Set<string>();
    const devices = doc.devices.map((d: unknown, i: number) => {
      const where = `${source}: devices[${i}]`;
      if (!isObject(d)) fail(where, 'expected an object');
      const name = str(d.name, `${where}.name`);
      if (!CDI_DEVICE_NAME_RE.test(name) || name === 'all') fail(`${where}.name`, `invalid device name ${JSON.stringify(name)}`);
      if (seen.has(name)) fail(`${where}.name`, `${name} is defined twice`);
      seen.add(name);
      const edits = containerEdits(d.containerEdits, `${where}.containerEdits`);
      if (!edits.env?.length && !edits.deviceNodes?.length && !edits.mounts?.length && !edits.hooks?.length) fail(`${where}.containerEdits`, 'a device must edit something');
      return { name, containerEdits: edits };
    });
    const spec: CdiSpec = { cdiVersion: version, kind, devices, source };
    if (doc.containerEdits != null) spec.containerEdits = containerEdits(doc.containerEdits, `${source}: containerEdits`);
    return spec;
  } catch (err) {
    if (err instanceof CdiInvalid) throw new Error(`invalid CDI spec ${err.message}`);
    throw err;
  }
}

/** A spec file's text (JSON, or YAML by its extension) → the validated spec. */
export function parseCdiSpec(text: string, source: string): CdiSpec {
  let doc: unknown;
  try {
    doc = /\.ya?ml$/i.test(source) ? YAML.parse(text) : JSON.parse(text);
  } catch (err) {
    throw new Error(`invalid CDI spec ${source}: not valid ${/\.ya?ml$/i.test(source) ? 'YAML' : 'JSON'}: ${(err as Error).message.split('\n')[0]}`);
  }
  return validateCdiSpec(doc, source);
}

/** Every CDI device of the node by qualified name, and the spec files that could not be used. */
export interface CdiRegistry {
  devices: Map<string, { spec: CdiSpec; device: CdiSpec['devices'][number] }>;
  /** `vendor/class` → its device names, in name order (numbers numerically: 2 before 10) */
  kinds: Map<string, string[]>;
  errors: string[];
}

export const byDeviceName = (a: string, b: string): number => a.localeCompare(b, 'en', { numeric: true });

/** Builds the registry from specs in priority order, lowest first: a later spec's device of the same
 *  qualified name replaces an earlier one (as /var/run/cdi overrides /etc/cdi). */
export function cdiRegistry(specs: CdiSpec[], errors: string[] = []): CdiRegistry {
  const devices: CdiRegistry['devices'] = new Map();
  for (const spec of specs) for (const device of spec.devices) devices.set(`${spec.kind}=${device.name}`, { spec, device });
  const kinds = new Map<string, string[]>();
  for (const [, { spec, device }] of devices) (kinds.get(spec.kind) ?? kinds.set(spec.kind, []).get(spec.kind)!).push(device.name);
  for (const names of kinds.values()) names.sort(byDeviceName);
  return { devices, kinds, errors };
}

/** Reads `*.json`, `*.yaml` and `*.yml` of each dir (missing dirs are fine), dirs in increasing
 *  priority, files in name order; a file that does not parse is reported in `errors`, not fatal. */
export async function loadCdiSpecs(dirs: readonly string[]): Promise<CdiRegistry> {
  const specs: CdiSpec[] = [];
  const errors: string[] = [];
  for (const dir of dirs) {
    if (!existsSync(dir)) continue;
    const files = (await fsp.readdir(dir).catch(() => [] as string[])).filter((f) => /\.(json|ya?ml)$/i.test(f)).sort();
    for (const f of files) {
      const file = path.join(dir, f);
      try {
        specs.push(parseCdiSpec(await fsp.readFile(file, 'utf8'), file));
      } catch (err) {
        errors.push((err as Error).message);
      }
    }
  }
  return cdiRegistry(specs, errors);
}
