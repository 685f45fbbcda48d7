// core/volumes: persistent volumes — a named, size-limited filesystem a tenant creates once
// (`skiff volume create data --size 1Gi`) and services mount (`--volume data:/var/lib/app[:ro]`). Its
// data outlives revisions, scale to zero and daemon restarts. The records shared by serving, store,
// scheduler and api, the names and mount paths every layer checks the same way, and the deploy
// document's `volumes` field. Must not import anything outside core.
import { SkiffError } from './errors.ts';
import { SERVICE_NAME_RE } from './names.ts';

/** Volume names are DNS labels like service names (they name a directory on the host). */
export const VOLUME_NAME_RE = SERVICE_NAME_RE;

/** A volume's default size and the bounds of --size. */
export const DEFAULT_VOLUME_BYTES = 1024 ** 3;
export const MIN_VOLUME_BYTES = 8 * 1024 ** 2;
export const MAX_VOLUME_BYTES = 16 * 1024 ** 4;

export interface VolumeRecord {
  name: string;
  tenant: string;
  /** the filesystem's size: writes past it fail with ENOSPC (the kernel enforces it) */
  sizeBytes: number;
  /** may be mounted read-write by several instances at once (a service with max > 1) */
  shared: boolean;
  createdAt: number;
}

/** A volume mounted into a revision's instances (ServiceSpec.volumes). */
export interface VolumeMountSpec {
  volume: string;
  /** absolute path inside the instance */
  path: string;
  readOnly: boolean;
}

/** The deploy document's `volumes` entries (`--volume data:/var/lib/app[:ro]`). */
export const volumeMountsSchema = {
  type: 'array',
  maxItems: 16,
  description: 'volumes mounted into every instance: skiff volume create NAME first',
  items: {
    type: 'object',
    required: ['volume', 'path'],
    additionalProperties: false,
    properties: {
      volume: { type: 'string', pattern: VOLUME_NAME_RE.source },
      path: { type: 'string', pattern: '^/', maxLength: 1024 },
      readOnly: { type: 'boolean' },
    },
  },
} as const;

/** The body of POST /api/v1/volumes (`skiff volume create NAME [--size 1Gi] [--shared]`). */
export interface VolumeCreateBody {
  name: string;
  /** bytes or a quantity like 1Gi (default 1Gi) */
  size?: string | number;
  shared?: boolean;
}

export const volumeCreateSchema = {
  type: 'object',
  required: ['name'],
  additionalProperties: false,
  properties: {
    name: { type: 'string', pattern: VOLUME_NAME_RE.source },
    size: { type: ['string', 'number'], description: 'the filesystem size: bytes or a quantity like 512Mi, 1Gi (default 1Gi, at least 8Mi); writes past it fail with ENOSPC' },
    shared: { type: 'boolean', description: 'may be mounted read-write by several instances at once (services with max > 1); the app coordinates its writes' },
  },
} as const;

export function isVolumeName(name: string): boolean {
  return VOLUME_NAME_RE.test(name);
}

export function assertVolumeName(name: string, field = 'name'): string {
  if (!isVolumeName(name)) throw new SkiffError('BAD_REQUEST', `${field}: a volume name is a DNS label (lowercase letters, digits, '-'), got ${JSON.stringify(name.slice(0, 100))}`);
  return name;
}

/** Where the runtime's own mounts live: a volume may not cover them. */
const RESERVED_TARGETS = ['/proc', '/sys', '/dev', '/etc/resolv.conf', '/etc/hosts', '/etc/hostname'];

/** A mount target: absolute, no `.`/`..` components, not `/` nor a runtime mount (BAD_REQUEST naming `field`). */
export function assertMountTarget(target: string, field: string): string {
  const shown = JSON.stringify(target.slice(0, 200));
  if (!target.startsWith('/') || target.includes('\0') || target.length > 1024) throw new SkiffError('BAD_REQUEST', `${field}: the mount path must be absolute, got ${shown}`);
  const parts = target.split('/').filter((p) => p !== '');
  if (parts.length === 0) throw new SkiffError('BAD_REQUEST', `${field}: a volume cannot be mounted on /`);
  if (parts.some((p) => p === '.' || p === '..')) throw new SkiffError('BAD_REQUEST', `${field}: the mount path ${shown} has a "." or ".." component`);
  const clean = '/' + parts.join('/');
  for (const r of RESERVED_TARGETS) {
    if (clean === r || clean.startsWith(r + '/')) throw new SkiffError('BAD_REQUEST', `${field}: ${clean} is the runtime's own (${r}); mount the volume elsewhere`);
  }
  return clean;
}

/** Parses `--volume NAME:/path[:ro|:rw]`. */
export function parseVolumeFlag(value: string): VolumeMountSpec {
  const m = /^([^:]+):(\/[^:]*)(?::(ro|rw))?$/.exec(value);
  if (!m) throw new SkiffError('BAD_REQUEST', `--volume: expected NAME:/PATH[:ro], got ${JSON.stringify(value)}`);
  return { volume: assertVolumeName(m[1]!, '--volume'), path: assertMountTarget(m[2]!, '--volume'), readOnly: m[3] === 'ro' };
}
