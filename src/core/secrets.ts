// core/secrets: secrets as every module sees them — names and key names (never values) in records and
// views, the references a deploy document makes, the versions a revision pins, and the clear values an
// instance is created with (memory only: InstanceSpec.secrets). Values are sealed by the daemon's node
// key (core/secret-box.ts) before the store sees them; docs/secrets.md has the whole story.
//
//   deploy document                      revision (ServiceSpec.secrets)      instance (InstanceSpec.secrets)
//   secrets:                             pinned versions, no values          clear values, never on disk
//     envFrom: [{ secret: db }]     ─►   envFrom: [{ secret: db, version: 3 }]   env: { USER: …, PASSWORD: … }
//     env: { PW: { secret: db, key: password } }                                mounts: [{ path, files }]
//     mounts: { /run/secrets: { secret: tls } }
import { SERVICE_NAME_RE } from './names.ts';

/** Secret names are DNS labels, like service names. */
export const SECRET_NAME_RE = SERVICE_NAME_RE;
/** A key is an env var name or a file name: letters, digits, `_`, `.`, `-`, not starting with a digit, `.` or `-`. */
export const SECRET_KEY_RE = /^[A-Za-z_][A-Za-z0-9_.-]{0,252}$/;
export const ENV_NAME_RE = /^[A-Za-z_][A-Za-z0-9_]*$/;
/** Where a secret may be mounted: an absolute path of plain segments, nowhere the runtime owns. */
export const SECRET_MOUNT_PATH_RE = /^(\/[A-Za-z0-9_][A-Za-z0-9._-]*)+$/;
const RESERVED_MOUNTS = ['/proc', '/sys', '/dev', '/etc/resolv.conf', '/etc/hosts', '/tmp'];

/** What one version may hold: these many keys, these many bytes of values in all. */
export const SECRET_LIMITS = { keys: 100, bytes: 64 * 1024, versions: 1000 } as const;

/** A secret a document refers to; no version: the latest one when the revision is made (then pinned). */
export interface SecretRef {
  secret: string;
  version?: number;
}

/** The `secrets` field of a deploy document. */
export interface DocumentSecrets {
  /** every key of each secret as an env var (later secrets win over earlier ones) */
  envFrom?: SecretRef[];
  /** env var → one key of one secret */
  env?: Record<string, SecretRef & { key: string }>;
  /** absolute path in the instance → a directory with each key of the secret as a read-only file */
  mounts?: Record<string, SecretRef>;
}

export interface PinnedSecretRef {
  secret: string;
  version: number;
}

/** What a revision uses, each secret pinned to the version it was made with (ServiceSpec.secrets). */
export interface PinnedSecrets {
  envFrom: PinnedSecretRef[];
  env: Record<string, PinnedSecretRef & { key: string }>;
  mounts: Array<PinnedSecretRef & { path: string }>;
}

/** The clear values an instance is created with. Held in memory only: a driver must put none of it on
 *  persistent disk (the runc driver keeps its bundle and the mounted files on tmpfs). */
export interface SecretMaterial {
  env: Record<string, string>;
  mounts: Array<{ path: string; files: Record<string, string> }>;
}

/** One stored version: key names in clear, values sealed (AES-256-GCM under the node key). */
export interface SecretVersionRecord {
  tenant: string;
  name: string;
  version: number;
  keys: string[];
  /** base64 of the sealed JSON object of values (secret-box.ts format) */
  sealed: string;
  /** which node key sealed it (the first bytes of its sha256), so a wrong key is said as such */
  keyId: string;
  createdAt: number;
}

/** A secret as listed: metadata of its latest version. */
export interface SecretRecord {
  tenant: string;
  name: string;
  latestVersion: number;
  keys: string[];
  versions: number;
  createdAt: number;
  updatedAt: number;
}

/** What the API answers about a secret: names, versions, key names, times — never a value. */
export interface SecretView {
  name: string;
  version: number;
  keys: string[];
  createdAt: string;
  updatedAt: string;
  /** newest first (describe only) */
  versions?: Array<{ version: number; keys: string[]; createdAt: string }>;
  /** the revisions that use it, with the version each pinned (describe only) */
  usedBy?: Array<{ service: string; revision: string; version: number; serving: boolean }>;
}

/** `PUT /api/v1/secrets/{name}`: the new version's values. `merge`: keys not given keep their values
 *  from the latest version (otherwise the body states the whole secret); `remove`: keys to drop (merge only). */
export interface SecretSetBody {
  data: Record<string, string>;
  merge?: boolean;
  remove?: string[];
}

/** The associated data each version is sealed with: a sealed value cannot be moved to another tenant,
 *  secret or version without failing to open. */
export function secretAad(tenant: string, name: string, version: number): string {
  return `skiff-secret:v1:${tenant}/${name}@${version}`;
}

/** null when `p` may be a mount path, else why not. */
export function secretMountPathProblem(p: string): string | null {
  if (!SECRET_MOUNT_PATH_RE.test(p) || p.split('/').some((s) => s === '.' || s === '..')) return 'an absolute path of plain segments (letters, digits, ., _, -)';
  const reserved = RESERVED_MOUNTS.find((r) => p === r || p.startsWith(r + '/'));
  return reserved ? `not under ${reserved}, which the runtime provides` : null;
}

const ref = {
  secret: { type: 'string', pattern: SECRET_NAME_RE.source, description: 'secret name (skiff secret ls)' },
  version: { type: 'integer', minimum: 1, description: 'pin this version; absent: the latest when the revision is made (then pinned)' },
} as const;

/** The deploy document's `secrets` schema (core/documents.ts). */
export const documentSecretsSchema = {
  type: 'object',
  additionalProperties: false,
  description: 'secrets the instances get, each pinned to a version when the revision is made (values are never shown)',
  properties: {
    envFrom: { type: 'array', maxItems: 20, items: { type: 'object', required: ['secret'], additionalProperties: false, properties: ref }, description: 'every key of each secret as an env var (skiff deploy --env-from-secret NAME)' },
    env: {
      type: 'object',
      maxProperties: 1000,
      propertyNames: { pattern: ENV_NAME_RE.source },
      additionalProperties: { type: 'object', required: ['secret', 'key'], additionalProperties: false, properties: { ...ref, key: { type: 'string', pattern: SECRET_KEY_RE.source } } },
      description: 'env var → one key of a secret (skiff deploy --secret-env VAR=NAME:KEY)',
    },
    mounts: {
      type: 'object',
      maxProperties: 20,
      propertyNames: { pattern: SECRET_MOUNT_PATH_RE.source },
      additionalProperties: { type: 'object', required: ['secret'], additionalProperties: false, properties: ref },
      description: 'absolute path → each key of the secret as a read-only file there, on tmpfs (skiff deploy --secret-mount NAME:/path)',
    },
  },
} as const;
