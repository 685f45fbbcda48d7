// core/names: the one place that validates and derives names (repositories, tags, references).
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
