// core/devices: host devices and GPUs a service asks for (`skiff deploy --device /dev/PATH[:rwm]`,
// `--device vendor/class=name`, `--gpu N`; the deploy document's `devices` and `gpus`), as words every
// instance driver can read. What a request turns into on a node (an OCI linux.devices entry and cgroup
// rule, or a CDI spec's containerEdits) is the driver's (runtime/devices/); whether it is allowed is
// the node's: its device allow-list (runtime.deviceAllowList) and the CDI specs its admin installed.
// Must not import anything outside core.
import { SkiffError } from './errors.ts';

/** A host device node, passed through, with cgroup access `r`, `w`, `m` (mknod) letters. */
export interface HostDeviceRequest {
  kind: 'host';
  /** absolute path of the device node on the host, also its path inside the instance unless `containerPath` */
  path: string;
  /** where the node appears inside the instance (docker's `--device HOST:CONTAINER`); absent: `path` */
  containerPath?: string;
  /** a non-empty subset of `rwm`, in that order */
  access: string;
}

/** A device of a CDI spec the node's admin installed: `vendor/class=name` (`=all`: every device of the kind). */
export interface CdiDeviceRequest {
  kind: 'cdi';
  /** fully qualified CDI name, e.g. `nvidia.com/gpu=0` */
  name: string;
}

export type DeviceRequest = HostDeviceRequest | CdiDeviceRequest;

/** The CDI kind `--gpu N` takes its devices from. */
export const GPU_CDI_KIND = 'nvidia.com/gpu';

/** the most GPUs (and device requests) one instance may ask for */
export const DEVICE_MAXIMUMS = { devices: 64, gpus: 64 } as const;

// CDI's qualified-name rules (container-device-interface pkg/parser): vendor = a domain-like name
// (letters, digits, `-`, `_`, `.`; starts with a letter, ends alphanumeric), class = letters, digits,
// `-`, `_` (starts with a letter), device name = letters, digits, `-`, `_`, `.`, `:` (starts and ends
// alphanumeric).
const VENDOR = '[A-Za-z](?:[A-Za-z0-9_.-]*[A-Za-z0-9])?';
const CLASS = '[A-Za-z](?:[A-Za-z0-9_-]*[A-Za-z0-9])?';
const DEVICE = '[A-Za-z0-9](?:[A-Za-z0-9_.:-]*[A-Za-z0-9])?';
/** `vendor/class` */
export const CDI_KIND_RE = new RegExp(`^${VENDOR}/${CLASS}$`);
export const CDI_DEVICE_NAME_RE = new RegExp(`^${DEVICE}$`);
export const CDI_QUALIFIED_RE = new RegExp(`^(${VENDOR}/${CLASS})=(${DEVICE})$`);

/** `vendor/class=name` → its kind and device name; undefined when it is not a qualified CDI name. */
export function splitCdiName(name: string): { kind: string; device: string } | undefined {
  const m = CDI_QUALIFIED_RE.exec(name);
  return m ? { kind: m[1]!, device: m[2]! } : undefined;
}

/** `rwm` letters, each at most once, in any order → in `rwm` order. */
export function normaliseAccess(access: string, where: string): string {
  if (!/^[rwm]{1,3}$/.test(access) || new Set(access).size !== access.length) {
    throw new SkiffError('BAD_REQUEST', `${where}: device access must be letters of rwm (read, write, mknod), each once, got ${JSON.stringify(access)}`);
  }
  return ['r', 'w', 'm'].filter((c) => access.includes(c)).join('');
}

/**
 * One `--device` value (or `devices[i]` of a document): `HOST_PATH[:CONTAINER_PATH][:rwm]` for a host
 * device node (as docker run --device; the path inside under /dev), or a fully qualified CDI name
 * `vendor/class=name`. `where` names the flag or field in errors.
 */
export function parseDeviceRequest(text: string, where: string): DeviceRequest {
  if (typeof text !== 'string' || text.length === 0 || text.length > 256) throw new SkiffError('BAD_REQUEST', `${where}: expected /dev/PATH[:CONTAINER_PATH][:rwm] or a CDI name vendor/class=name, got ${JSON.stringify(String(text).slice(0, 80))}`);
  if (text.startsWith('/')) {
    // HOST[:CONTAINER][:rwm], as docker run --device
    const parts = text.split(':');
    if (parts.length > 3) throw new SkiffError('BAD_REQUEST', `${where}: ${JSON.stringify(text)}: expected HOST_PATH[:CONTAINER_PATH][:rwm]`);
    const last = parts.length > 1 && !parts[parts.length - 1]!.startsWith('/') ? parts.pop()! : undefined;
    const access = last !== undefined ? normaliseAccess(last, where) : 'rwm';
    const [host, inside] = parts as [string, string | undefined];
    for (const p of [host, ...(inside !== undefined ? [inside] : [])]) {
      if (!/^(?:\/[A-Za-z0-9_.+@-]+)+$/.test(p) || p.split('/').some((x) => x === '.' || x === '..')) {
        throw new SkiffError('BAD_REQUEST', `${where}: ${JSON.stringify(text)}: a device path must be absolute, without . or .. parts (HOST_PATH[:CONTAINER_PATH][:rwm])`);
      }
    }
    if (inside !== undefined && !inside.startsWith('/dev/')) throw new SkiffError('BAD_REQUEST', `${where}: ${JSON.stringify(text)}: the path inside the instance must be under /dev`);
    return { kind: 'host', path: host, ...(inside !== undefined && inside !== host ? { containerPath: inside } : {}), access };
  }
  if (splitCdiName(text)) return { kind: 'cdi', name: text };
  throw new SkiffError('BAD_REQUEST', `${where}: ${JSON.stringify(text.slice(0, 80))} is neither a host device (/dev/PATH[:CONTAINER_PATH][:rwm]) nor a CDI device name (vendor/class=name, e.g. ${GPU_CDI_KIND}=0 or ${GPU_CDI_KIND}=all)`);
}

/** The text form of a request, as `--device` takes it (`:rwm` left out, the default). */
export function deviceRequestText(r: DeviceRequest): string {
  if (r.kind === 'cdi') return r.name;
  return `${r.path}${r.containerPath !== undefined ? `:${r.containerPath}` : ''}${r.access === 'rwm' ? '' : `:${r.access}`}`;
}

/** A list of device texts → requests; the same device twice is refused. */
export function parseDeviceRequests(texts: readonly string[], where: string): DeviceRequest[] {
  if (texts.length > DEVICE_MAXIMUMS.devices) throw new SkiffError('BAD_REQUEST', `${where}: at most ${DEVICE_MAXIMUMS.devices} devices`);
  const seen = new Set<string>();
  return texts.map((t, i) => {
    const r = parseDeviceRequest(t, `${where}[${i}]`);
    const key = r.kind === 'cdi' ? r.name : (r.containerPath ?? r.path);
    if (seen.has(key)) throw new SkiffError('BAD_REQUEST', `${where}[${i}]: ${key} is given twice`);
    seen.add(key);
    return r;
  });
}
