// core/names: the one place that validates and derives names: repositories, tags and references;
// services, revisions, instances, runs, job executions, hosts and cgroups.
import { randomBytes } from 'node:crypto';
import { SkiffError } from './errors.ts';
import { isDigest } from './digest.ts';

// OCI distribution-spec v1.1: <name> = path components separated by '/', each matching
// [a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*; the whole name is limited in practice to 255 characters.
const REPO_COMPONENT = /^[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*$/;
const TAG_RE = /^[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}$/;
export const MAX_REPOSITORY_NAME = 255;

export function isRepositoryName(name: string): boolean {
  if (name.length === 0 || name.length > MAX_REPOSITORY_NAME) return false;
  return name.split('/').every((c) => REPO_COMPONENT.test(c));
}

export function assertRepositoryName(name: string): string {
  if (!isRepositoryName(name)) throw new SkiffError('NAME_INVALID', `invalid repository name ${JSON.stringify(name.slice(0, 300))}`);
  return name;
}

export function isTag(tag: string): boolean {
  return TAG_RE.test(tag);
}

/** A manifest reference is either a tag or a digest. */
export type Reference = { kind: 'tag'; tag: string } | { kind: 'digest'; digest: string };

export function parseReference(ref: string): Reference {
  if (ref.includes(':')) {
    if (!isDigest(ref)) throw new SkiffError('DIGEST_INVALID', `invalid digest reference ${JSON.stringify(ref.slice(0, 200))}`);
    return { kind: 'digest', digest: ref };
  }
  if (!isTag(ref)) throw new SkiffError('TAG_INVALID', `invalid tag ${JSON.stringify(ref.slice(0, 200))}`);
  return { kind: 'tag', tag: ref };
}

/** An image as a deploy names it; the registry host, if any, was dropped (Skiff serves only its own). */
export interface ImageReference {
  repository: string;
  tag?: string;
  digest?: string;
  /** what to resolve in the registry: the digest when given (it wins over a tag), else the tag, else `latest` */
  reference: string;
}

// Docker's rule: the first component is a registry host when it has a '.' or ':' or is 'localhost'.
function isRegistryHost(component: string): boolean {
  return component.includes('.') || component.includes(':') || component === 'localhost';
}

/** Parses `[host[:port]/]repo[:tag][@digest]`; throws NAME_INVALID / TAG_INVALID / DIGEST_INVALID. */
export function parseImageReference(ref: string): ImageReference {
  const quoted = JSON.stringify(ref.slice(0, 300));
  let rest = ref;
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    digest = rest.slice(at + 1);
    if (!isDigest(digest)) throw new SkiffError('DIGEST_INVALID', `invalid digest in image reference ${quoted}`);
    rest = rest.slice(0, at);
  }
  const slash = rest.indexOf('/');
  if (slash >= 0 && isRegistryHost(rest.slice(0, slash))) rest = rest.slice(slash + 1);
  // After the host is gone, a ':' can only introduce the tag.
  let tag: string | undefined;
  const colon = rest.lastIndexOf(':');
  if (colon >= 0) {
    tag = rest.slice(colon + 1);
    if (!isTag(tag)) throw new SkiffError('TAG_INVALID', `invalid tag in image reference ${quoted}`);
    rest = rest.slice(0, colon);
  }
  if (!isRepositoryName(rest)) throw new SkiffError('NAME_INVALID', `invalid repository in image reference ${quoted}`);
  return { repository: rest, ...(tag === undefined ? {} : { tag }), ...(digest === undefined ? {} : { digest }), reference: digest ?? tag ?? 'latest' };
}

// ---- serving names: services, revisions, instances, hosts, cgroups. Every module derives them here.

/** A service name is a DNS label: it becomes a host name (NAME.<domain>) and part of every id below. */
export const SERVICE_NAME_RE = /^[a-z]([a-z0-9-]{0,61}[a-z0-9])?$/;

/** Instance ids name a container, its netns, log and state directories and its cgroup. The longest
 *  is a 63-character service's revision plus the instance suffix (63 + 6 + 7). */
export const INSTANCE_ID_RE = /^[a-z0-9][a-z0-9-]{0,127}$/;

export function isInstanceId(id: string): boolean {
  return INSTANCE_ID_RE.test(id);
}

export function assertInstanceId(id: string): string {
  if (!isInstanceId(id)) throw new SkiffError('BAD_REQUEST', `invalid instance id ${JSON.stringify(id.slice(0, 80))}`);
  return id;
}

/** The revision a deploy creates: `<service>-<generation, 5 digits>` (Knative's naming). */
export function revisionName(service: string, generation: number): string {
  return `${service}-${String(generation).padStart(5, '0')}`;
}

/** A new instance of a revision: `<revision>-<6 random hex>`. */
export function instanceId(revision: string): string {
  return `${revision}-${randomBytes(3).toString('hex')}`;
}

/** The revision an instance id was derived from (for a leftover whose own record is gone). */
export function revisionOfInstance(id: string): string {
  return id.replace(/-[0-9a-f]{6}$/, '');
}

/** A one-off run (`skiff run`): `run-<12 random hex>`. */
export function runId(): string {
  return `run-${randomBytes(6).toString('hex')}`;
}

/** An execution of a job (`skiff job run`): `<job>-<5 random base-36 characters>`, as Cloud Run names them. */
export function executionId(job: string): string {
  const chars = [...randomBytes(5)].map((b) => (b % 36).toString(36)).join('');
  return `${job}-${chars}`;
}

/** Where the driver keeps a job's task attempts' output once their containers are deleted
 *  (InstanceSpec.logGroup): `job.<name>`, which no service name can be (a DNS label has no dot). */
export function jobLogGroup(job: string): string {
  return `job.${job}`;
}

/** A traffic tag: a DNS label without `--`, so that TAG--NAME splits one way only. */
export const TRAFFIC_TAG_RE = /^[a-z](?:[a-z0-9]|-(?=[a-z0-9])){0,61}$/;

/** The name a tagged revision answers to: `TAG--NAME` (NAME.<domain> and /s/NAME/ forms alike). */
export function taggedName(tag: string, service: string): string {
  return `${tag}--${service}`;
}

/** BAD_REQUEST naming `field` unless `tag` is a traffic tag that makes TAG--SERVICE a DNS label. */
export function assertTrafficTag(service: string, tag: string, field = 'tag'): void {
  if (!TRAFFIC_TAG_RE.test(tag)) throw new SkiffError('BAD_REQUEST', `${field}: must be a DNS label without '--' (lowercase letters, digits, '-'), got ${JSON.stringify(tag)}`);
  if (taggedName(tag, service).length > 63) throw new SkiffError('BAD_REQUEST', `${field}: ${tag}--${service} is longer than a DNS label (63 characters)`);
}

/** The host name a service answers at on the gateway. */
export function serviceHost(service: string, domain: string): string {
  return `${service}.${domain}`;
}

/** The cgroup (relative to each hierarchy's root) of an instance under a parent such as `/skiff`. */
export function instanceCgroup(parent: string, id: string): string {
  return `${parent}/${assertInstanceId(id)}`;
}

/** `repo@sha256:…`: how a pinned image is written for people and registry clients. */
export function pinnedReference(image: { repository: string; digest: string }): string {
  return `${image.repository}@${image.digest}`;
}
