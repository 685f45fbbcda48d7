// images/image-config: what running an image needs from its manifest and config — the layers in order
// and the process defaults (entrypoint, cmd, env, working dir, user, ports, healthcheck, stop signal).
// Parsing is pure; resolveImage() walks index → platform manifest → config through a ManifestSource.
// Media types are spelled here, not imported from src/registry (images imports only core).
import { IMAGE_MEDIA_TYPES, INDEX_MEDIA_TYPES } from '../core/media-types.ts';
import { digestOf, parseDigest } from '../core/digest.ts';
import { SkiffError } from '../core/errors.ts';
import type { ManifestSource } from './ports.ts';

export interface Platform {
  os: string;
  architecture: string;
  variant?: string;
}

export const DEFAULT_PLATFORM: Platform = { os: 'linux', architecture: 'amd64' };

export interface LayerRef {
  digest: string;
  mediaType: string;
}

export interface Healthcheck {
  /** Docker's form: ["CMD", ...], ["CMD-SHELL", "..."] or ["NONE"] */
  test: string[];
  intervalMs?: number;
  timeoutMs?: number;
  startPeriodMs?: number;
  retries?: number;
}

export interface ImageConfig {
  /** digest of the platform-specific image manifest (not of an index above it) */
  manifestDigest: string;
  /** base layer first, as in the manifest */
  layers: LayerRef[];
  entrypoint: string[];
  cmd: string[];
  env: string[];
  workingDir: string;
  user: string;
  /** e.g. "8080/tcp" */
  exposedPorts: string[];
  healthcheck?: Healthcheck;
  stopSignal?: string;
  labels: Record<string, string>;
}

interface Desc {
  digest: string;
  mediaType: string;
  platform?: Partial<Platform>;
}

export type ParsedManifest = { kind: 'index'; manifests: Desc[] } | { kind: 'image'; config: Desc; layers: LayerRef[] };

const INDEX_TYPES = INDEX_MEDIA_TYPES;
const IMAGE_TYPES = IMAGE_MEDIA_TYPES;
const CONFIG_TYPES = new Set(['application/vnd.oci.image.config.v1+json', 'application/vnd.docker.container.image.v1+json']);
// OCI `…layer.v1.tar[+gzip|+zstd]` (also nondistributable), Docker `…rootfs.diff.tar.gzip` (also foreign)
const LAYER_TYPE = /[.]tar([.]gzip|\+gzip|\+zstd)?$/;

const invalid = (message: string) => new SkiffError('IMAGE_INVALID', message);

function object(v: unknown, where: string): Record<string, unknown> {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) throw invalid(`${where} must be a JSON object`);
  return v as Record<string, unknown>;
}

function json(bytes: Buffer, what: string): Record<string, unknown> {
  try {
    return object(JSON.parse(bytes.toString('utf8')), what);
  } catch (err) {
    throw err instanceof SkiffError ? err : invalid(`${what} is not valid JSON`);
  }
}

function descriptor(v: unknown, where: string): Desc {
  const d = object(v, where);
  if (typeof d.digest !== 'string' || typeof d.mediaType !== 'string') throw invalid(`${where} needs a digest and a mediaType`);
  parseDigest(d.digest);
  return { digest: d.digest, mediaType: d.mediaType, platform: d.platform === undefined ? undefined : (object(d.platform, `${where}.platform`) as Partial<Platform>) };
}

/** An image manifest or an index; the body's own mediaType wins over the stored one when present. */
export function parseManifest(bytes: Buffer, storedMediaType: string): ParsedManifest {
  const doc = json(bytes, 'manifest');
  const mediaType = typeof doc.mediaType === 'string' ? doc.mediaType : storedMediaType;
  if (INDEX_TYPES.has(mediaType) || (!IMAGE_TYPES.has(mediaType) && Array.isArray(doc.manifests))) {
    if (!Array.isArray(doc.manifests)) throw invalid('index has no manifests');
    return { kind: 'index', manifests: doc.manifests.map((m, i) => descriptor(m, `manifests[${i}]`)) };
  }
  if (!Array.isArray(doc.layers)) throw invalid(`manifest of type ${mediaType} has no layers`);
  const config = descriptor(doc.config, 'config');
  if (!CONFIG_TYPES.has(config.mediaType)) throw invalid(`config type ${config.mediaType} is not a container image (an artifact?)`);
  const layers = doc.layers.map((l, i) => {
    const d = descriptor(l, `layers[${i}]`);
    if (!LAYER_TYPE.test(d.mediaType)) throw invalid(`layers[${i}] has type ${d.mediaType}, not a tar layer`);
    return { digest: d.digest, mediaType: d.mediaType };
  });
  return { kind: 'image', config, layers };
}

const matches = (p: Partial<Platform> | undefined, want: Platform) =>
  p?.os === want.os && p.architecture === want.architecture && (want.variant === undefined || p.variant === want.variant);

/** The index entry for `want`; entries without a platform (attestations, artifacts) never match. */
export function selectPlatform(manifests: readonly Desc[], want: Platform): Desc {
  const hit = manifests.find((m) => matches(m.platform, want));
  if (hit) return hit;
  const have = manifests.flatMap((m) => (m.platform?.os ? [[m.platform.os, m.platform.architecture, m.platform.variant].filter(Boolean).join('/')] : []));
  throw invalid(`no manifest for ${[want.os, want.architecture, want.variant].filter(Boolean).join('/')} in the index (has: ${have.join(', ') || 'none'})`);
}

const strings = (v: unknown, where: string): string[] => {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v) || !v.every((s) => typeof s === 'string')) throw invalid(`config ${where} must be a list of strings`);
  return v;
};
const optString = (v: unknown, where: string): string | undefined => {
  if (v === undefined || v === null || v === '') return undefined;
  if (typeof v !== 'string') throw invalid(`config ${where} must be a string`);
  return v;
};
// Docker stores healthcheck durations in nanoseconds; 0 or absent means "the default".
const nsToMs = (v: unknown): number | undefined => (typeof v === 'number' && v > 0 ? Math.round(v / 1e6) : undefined);

/** The process defaults of an image config (OCI image-spec `config`, Docker's `config`/`container_config`). */
export function parseImageConfig(bytes: Buffer, manifestDigest: string, layers: LayerRef[], want: Platform): ImageConfig {
  const doc = json(bytes, 'image config');
  if (typeof doc.architecture === 'string' && (doc.architecture !== want.architecture || (doc.os !== undefined && doc.os !== want.os))) {
    throw invalid(`image is for ${String(doc.os)}/${doc.architecture}, this machine runs ${want.os}/${want.architecture}`);
  }
  const c = doc.config === undefined || doc.config === null ? {} : object(doc.config, 'config.config');
  const hc = c.Healthcheck === undefined || c.Healthcheck === null ? undefined : object(c.Healthcheck, 'config.Healthcheck');
  const labels = c.Labels === undefined || c.Labels === null ? {} : object(c.Labels, 'config.Labels');
  if (!Object.values(labels).every((v) => typeof v === 'string')) throw invalid('config Labels must map to strings');
  return {
    manifestDigest,
    layers,
    entrypoint: strings(c.Entrypoint, 'Entrypoint'),
    cmd: strings(c.Cmd, 'Cmd'),
    env: strings(c.Env, 'Env'),
    workingDir: optString(c.WorkingDir, 'WorkingDir') ?? '/',
    user: optString(c.User, 'User') ?? '',
    exposedPorts: Object.keys(c.ExposedPorts === undefined || c.ExposedPorts === null ? {} : object(c.ExposedPorts, 'config.ExposedPorts')),
    ...(hc && { healthcheck: { test: strings(hc.Test, 'Healthcheck.Test'), intervalMs: nsToMs(hc.Interval), timeoutMs: nsToMs(hc.Timeout), startPeriodMs: nsToMs(hc.StartPeriod), retries: typeof hc.Retries === 'number' ? hc.Retries : undefined } }),
    ...(optString(c.StopSignal, 'StopSignal') && { stopSignal: c.StopSignal as string }),
    labels: labels as Record<string, string>,
  };
}

/** Resolves `repo` + tag/digest to the runnable image for `platform` (one index level, as the specs allow). */
export async function resolveImage(source: ManifestSource, repo: string, reference: string, platform: Platform = DEFAULT_PLATFORM): Promise<ImageConfig> {
  let stored = await source.manifest(repo, reference);
  let parsed = parseManifest(stored.bytes, stored.mediaType);
  if (parsed.kind === 'index') {
    stored = await source.manifest(repo, selectPlatform(parsed.manifests, platform).digest);
    parsed = parseManifest(stored.bytes, stored.mediaType);
    if (parsed.kind === 'index') throw invalid(`${repo}@${stored.digest}: an index inside an index is not supported`);
  }
  const bytes = await source.blob(parsed.config.digest);
  // The registry verified the push; a mismatch now means a damaged store, which must not run.
  if (digestOf(bytes, parseDigest(parsed.config.digest).algorithm) !== parsed.config.digest) {
    throw new SkiffError('DIGEST_INVALID', `config blob ${parsed.config.digest} of ${repo} does not match its digest`);
  }
  return parseImageConfig(bytes, stored.digest, parsed.layers, platform);
}
