// serving/secrets: secrets of each tenant — set (a new version each time), list, describe, remove — and
// what a deploy and an instance need of them: `pin` checks a document's references and pins each to a
// version (nothing is stored when one is unknown), `material` opens the pinned versions into the clear
// values an instance is created with. Values are sealed by the node key before the store sees them and
// leave this module only in SecretMaterial, on the way to the driver: never in a view, an event, a log
// line or an error message (docs/secrets.md).
import type { Clock } from '../core/clock.ts';
import { SkiffError } from '../core/errors.ts';
import type { SecretsRepository, ServingRepository } from '../core/repositories.ts';
import {
  ENV_NAME_RE,
  SECRET_KEY_RE,
  SECRET_LIMITS,
  SECRET_NAME_RE,
  secretAad,
  secretMountPathProblem,
  type DocumentSecrets,
  type PinnedSecretRef,
  type PinnedSecrets,
  type SecretMaterial,
  type SecretRecord,
  type SecretRef,
  type SecretSetBody,
  type SecretVersionRecord,
  type SecretView,
} from '../core/secrets.ts';

/** Seals and opens values under the node key (core/secret-box.ts SecretBox). */
export interface SecretCipher {
  readonly keyId: string;
  seal(aad: string, plaintext: Buffer): string;
  open(aad: string, sealed: string, what: string, keyId?: string): Buffer;
}

export interface SecretsServiceDeps {
  records: SecretsRepository;
  /** the node key's cipher; the key is read (or made) on first use */
  cipher(): Promise<SecretCipher>;
  /** which revisions use a secret (describe, and rm's refusal) */
  serving: Pick<ServingRepository, 'listServices' | 'allRevisions'>;
  clock: Clock;
}

const iso = (ms: number) => new Date(ms).toISOString();

export class SecretsService {
  constructor(private readonly d: SecretsServiceDeps) {}

  /** A new version. Without `merge` the body states the whole secret (keys not given are not in the
   *  new version), like a new Secret Manager version; with it, the latest version's other keys carry over. */
  async set(tenant: string, name: string, body: SecretSetBody): Promise<SecretView> {
    assertName(name);
    const remove = body.remove ?? [];
    if (remove.length && !body.merge) throw new SkiffError('BAD_REQUEST', 'remove: only with merge (without it, the new version holds exactly the keys given)');
    for (const k of Object.keys(body.data)) {
      if (!SECRET_KEY_RE.test(k)) throw new SkiffError('BAD_REQUEST', `data: key ${JSON.stringify(k.slice(0, 80))} is not a valid key (letters, digits, _, ., -; not starting with a digit, . or -)`);
    }
    const what = `secret ${name}`;
    const cipher = await this.d.cipher();
    const made = await this.d.records.addVersion(
      tenant,
      name,
      (version, latest) => {
        let values: Record<string, string> = {};
        if (body.merge && latest) values = openValues(cipher, latest);
        for (const k of remove) {
          if (!(k in values)) throw new SkiffError('BAD_REQUEST', `remove: ${what} has no key ${JSON.stringify(k)}${latest ? ` (version ${latest.version} has: ${latest.keys.join(', ') || 'none'})` : ''}`);
          delete values[k];
        }
        Object.assign(values, body.data);
        const keys = Object.keys(values).sort();
        if (keys.length === 0) throw new SkiffError('BAD_REQUEST', `data: ${what} needs at least one key (skiff secret rm ${name} removes it)`);
        if (keys.length > SECRET_LIMITS.keys) throw new SkiffError('BAD_REQUEST', `data: at most ${SECRET_LIMITS.keys} keys per secret, got ${keys.length}`);
        const plaintext = Buffer.from(JSON.stringify(values), 'utf8');
        if (plaintext.length > SECRET_LIMITS.bytes) throw new SkiffError('BAD_REQUEST', `data: at most ${SECRET_LIMITS.bytes / 1024} KiB per secret, got ${Math.ceil(plaintext.length / 1024)} KiB`);
        return { keys, sealed: cipher.seal(secretAad(tenant, name, version), plaintext), keyId: cipher.keyId };
      },
      this.d.clock.now(),
    );
    return { name, version: made.version, keys: made.keys, createdAt: iso(made.createdAt), updatedAt: iso(made.createdAt) };
  }

  async list(tenant: string): Promise<SecretView[]> {
    return (await this.d.records.listSecrets(tenant)).map(summary);
  }

  async get(tenant: string, name: string): Promise<SecretView> {
    const secret = await this.secret(tenant, name);
    const versions = await this.d.records.versionsOf(tenant, name);
    return {
      ...summary(secret),
      versions: versions.map((v) => ({ version: v.version, keys: v.keys, createdAt: iso(v.createdAt) })),
      usedBy: await this.usedBy(tenant, name),
    };
  }

  /** Refused while a revision that may run uses it — the latest revision of a service, or one the traffic
   *  split names (a share or a tag) — since its next instance could not start. Older revisions do not
   *  hold it: rolling back to one that used a removed secret fails at its start, with that cause. */
  async remove(tenant: string, name: string): Promise<void> {
    await this.secret(tenant, name);
    const live = (await this.usedBy(tenant, name)).filter((u) => u.serving);
    if (live.length) {
      throw new SkiffError('CONFLICT', `secret ${name} is used by ${live.map((u) => `${u.revision} (${u.service}, version ${u.version})`).join(', ')}: deploy ${live.length > 1 ? 'them' : 'it'} without it or remove the service first`);
    }
    await this.d.records.deleteSecret(tenant, name);
  }

  /** The document's references pinned to versions (the latest where none is named), or SECRET_UNKNOWN
   *  naming the field and the flag. `env`: the document's plain env (a secret env var may not shadow one). */
  async pin(tenant: string, doc: DocumentSecrets | undefined, env: Record<string, string>): Promise<PinnedSecrets | undefined> {
    if (!doc || (!doc.envFrom?.length && !Object.keys(doc.env ?? {}).length && !Object.keys(doc.mounts ?? {}).length)) return undefined;
    const pinned: PinnedSecrets = { envFrom: [], env: {}, mounts: [] };
    const find = async (secret: string, version: number | undefined, field: string, flag: string): Promise<SecretVersionRecord> => {
      if (typeof secret !== 'string' || !SECRET_NAME_RE.test(secret)) throw new SkiffError('BAD_REQUEST', `${field}.secret: a secret name is required (${flag})`);
      const v = await this.d.records.getVersion(tenant, secret, version);
      if (v) return v;
      const latest = version === undefined ? undefined : await this.d.records.getSecret(tenant, secret);
      throw new SkiffError(
        'SECRET_UNKNOWN',
        latest ? `${field} (${flag}): secret ${secret} has no version ${version} (the latest is ${latest.latestVersion})` : `${field} (${flag}): there is no secret ${secret} (skiff secret ls lists them; skiff secret set ${secret} KEY=VALUE makes it)`,
      );
    };
    for (const [i, ref] of (doc.envFrom ?? []).entries()) {
      const v = await find(ref.secret, ref.version, `secrets.envFrom[${i}]`, `--env-from-secret ${refText(ref)}`);
      const bad = v.keys.filter((k) => !ENV_NAME_RE.test(k));
      if (bad.length) throw new SkiffError('BAD_REQUEST', `secrets.envFrom[${i}] (--env-from-secret ${ref.secret}): keys ${bad.join(', ')} of secret ${ref.secret} are not env var names; use --secret-env VAR=${ref.secret}:KEY or --secret-mount for them`);
      pinned.envFrom.push({ secret: ref.secret, version: v.version });
    }
    for (const [name, ref] of Object.entries(doc.env ?? {})) {
      if (ref === null) continue;
      const flag = `--secret-env ${name}=${refText(ref)}:${ref.key}`;
      if (name === 'PORT') throw new SkiffError('BAD_REQUEST', `secrets.env.PORT (${flag}): PORT is the service's port; it cannot come from a secret`);
      if (name in env) throw new SkiffError('BAD_REQUEST', `secrets.env.${name} (${flag}): ${name} is also a plain env var (--env); give it one source`);
      if (typeof ref.key !== 'string' || !SECRET_KEY_RE.test(ref.key)) throw new SkiffError('BAD_REQUEST', `secrets.env.${name}.key: a key name is required (${flag})`);
      const v = await find(ref.secret, ref.version, `secrets.env.${name}`, flag);
      if (!v.keys.includes(ref.key)) throw new SkiffError('SECRET_UNKNOWN', `secrets.env.${name} (${flag}): secret ${ref.secret} version ${v.version} has no key ${ref.key} (it has: ${v.keys.join(', ')})`);
      pinned.env[name] = { secret: ref.secret, version: v.version, key: ref.key };
    }
    const paths = Object.keys(doc.mounts ?? {}).filter((p) => doc.mounts![p] !== null).sort();
    for (const [i, path] of paths.entries()) {
      const ref = doc.mounts![path]!;
      const flag = `--secret-mount ${refText(ref)}:${path}`;
      const problem = secretMountPathProblem(path);
      if (problem) throw new SkiffError('BAD_REQUEST', `secrets.mounts (${flag}): ${JSON.stringify(path)} must be ${problem}`);
      const inner = paths[i + 1];
      if (inner?.startsWith(path + '/')) throw new SkiffError('BAD_REQUEST', `secrets.mounts (${flag}): ${inner} is inside ${path}; mount secrets at separate paths`);
      const v = await find(ref.secret, ref.version, `secrets.mounts.${path}`, flag);
      pinned.mounts.push({ secret: ref.secret, version: v.version, path });
    }
    return pinned;
  }

  /** The clear values of the pinned versions, for an instance being created (never logged, never stored). */
  async material(tenant: string, pinned: PinnedSecrets, revision: string): Promise<SecretMaterial> {
    const opened = new Map<string, Record<string, string>>();
    const cipher = await this.d.cipher();
    const values = async (ref: PinnedSecretRef): Promise<Record<string, string>> => {
      const id = `${ref.secret}@${ref.version}`;
      let v = opened.get(id);
      if (!v) {
        const record = await this.d.records.getVersion(tenant, ref.secret, ref.version);
        if (!record) throw new SkiffError('SECRET_UNKNOWN', `${revision} uses version ${ref.version} of secret ${ref.secret}, which no longer exists: deploy a new revision naming an existing secret`);
        v = openValues(cipher, record);
        opened.set(id, v);
      }
      return v;
    };
    const env: Record<string, string> = {};
    for (const ref of pinned.envFrom) Object.assign(env, await values(ref));
    for (const [name, ref] of Object.entries(pinned.env)) {
      const v = await values(ref);
      if (!(ref.key in v)) throw new SkiffError('SECRET_UNKNOWN', `${revision}: secret ${ref.secret} version ${ref.version} has no key ${ref.key}`);
      env[name] = v[ref.key]!;
    }
    const mounts = [];
    for (const m of pinned.mounts) mounts.push({ path: m.path, files: await values(m) });
    return { env, mounts };
  }

  private async secret(tenant: string, name: string): Promise<SecretRecord> {
    const s = await this.d.records.getSecret(tenant, name);
    if (!s) throw new SkiffError('NOT_FOUND', `no secret named ${name}`);
    return s;
  }

  /** revisions of the tenant's services that use the secret; `serving`: the latest, or named by the split */
  private async usedBy(tenant: string, name: string): Promise<NonNullable<SecretView['usedBy']>> {
    const services = new Map((await this.d.serving.listServices()).filter((s) => s.tenant === tenant).map((s) => [s.name, s]));
    const used: NonNullable<SecretView['usedBy']> = [];
    for (const r of await this.d.serving.allRevisions()) {
      const svc = services.get(r.service);
      const s = r.spec.secrets;
      if (!svc || !s) continue;
      const refs = [...s.envFrom, ...Object.values(s.env), ...s.mounts].filter((x) => x.secret === name);
      if (!refs.length) continue;
      const serving = svc.latestRevision === r.name || svc.traffic.some((t) => t.revision === r.name);
      for (const version of new Set(refs.map((x) => x.version))) used.push({ service: r.service, revision: r.name, version, serving });
    }
    return used;
  }
}

function openValues(cipher: SecretCipher, v: SecretVersionRecord): Record<string, string> {
  const what = `version ${v.version} of secret ${v.name}`;
  return JSON.parse(cipher.open(secretAad(v.tenant, v.name, v.version), v.sealed, what, v.keyId).toString('utf8')) as Record<string, string>;
}

/** a reference as the CLI flags spell it: NAME or NAME@VERSION */
const refText = (ref: SecretRef) => (ref.version !== undefined ? `${ref.secret}@${ref.version}` : ref.secret);

function assertName(name: string): void {
  if (!SECRET_NAME_RE.test(name)) throw new SkiffError('BAD_REQUEST', `name: a secret name is a DNS label (lowercase letters, digits, '-'), got ${JSON.stringify(name.slice(0, 80))}`);
}

function summary(s: SecretRecord): SecretView {
  return { name: s.name, version: s.latestVersion, keys: s.keys, createdAt: iso(s.createdAt), updatedAt: iso(s.updatedAt) };
}
