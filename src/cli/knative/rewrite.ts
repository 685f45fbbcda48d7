// knative/rewrite: an exported service's image for a cluster that cannot reach Skiff's registry
// (`skiff export --registry HOST[/PREFIX] --pull-secret NAME`). Pure. A deploy document names its image
// `repo@sha256:…` in Skiff's registry, with no host: a Kubernetes cluster would look for that on
// Docker Hub. `--registry` rewrites it to `HOST[/PREFIX]/repo@sha256:…` (the digest stays pinned) and
// says how to copy it there (`skopeo copy`, printed, never run); `--pull-secret` adds the pod
// template's `imagePullSecrets`. An image naming another registry's host is left as it is.
import { SkiffError } from '../../core/errors.ts';
import { isRepositoryName } from '../../core/names.ts';

type Obj = Record<string, unknown>;

const HOST_RE = /^(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*|\[[0-9a-fA-F:.]+\])(?::\d{1,5})?$/;
/** a Kubernetes Secret's name: an RFC 1123 subdomain */
const SECRET_NAME_RE = /^[a-z0-9](?:[-a-z0-9]*[a-z0-9])?(?:\.[a-z0-9](?:[-a-z0-9]*[a-z0-9])?)*$/;

/** Docker's rule (and Kubernetes'): an image's first component is a registry host when it has a '.' or a ':' or is `localhost`. */
function isRegistryHost(component: string): boolean {
  return component.includes('.') || component.includes(':') || component === 'localhost';
}

/** `--registry HOST[:PORT][/PREFIX]`, checked; without a trailing slash. */
export function parseRegistry(value: string): string {
  const v = value.replace(/\/+$/, '');
  const slash = v.indexOf('/');
  const host = slash < 0 ? v : v.slice(0, slash);
  const prefix = slash < 0 ? undefined : v.slice(slash + 1);
  const bad = (why: string) => new SkiffError('USAGE', `--registry: ${JSON.stringify(value)}: ${why} (expected HOST[:PORT][/PREFIX], e.g. registry.example.com/team)`);
  if (/^[a-z]+:\/\//i.test(v)) throw bad('no scheme');
  if (!HOST_RE.test(host)) throw bad(`${JSON.stringify(host)} is not a host`);
  if (!isRegistryHost(host)) throw bad(`${JSON.stringify(host)} would be read as a Docker Hub repository: a registry host has a '.' or a ':port', or is localhost`);
  if (prefix !== undefined && !isRepositoryName(prefix)) throw bad(`${JSON.stringify(prefix)} is not a repository path (lowercase components separated by '/')`);
  return v;
}

/** `--pull-secret NAME`, checked: a Kubernetes Secret's name. */
export function assertPullSecretName(name: string): string {
  if (name.length > 253 || !SECRET_NAME_RE.test(name)) throw new SkiffError('USAGE', `--pull-secret: ${JSON.stringify(name)} is not a Kubernetes Secret name (lowercase letters, digits, '-' and '.')`);
  return name;
}

/** Skiff's registry as an image reference names it: the host[:port] of the API URL the CLI talks to. */
export function registryAddress(apiUrl: string): { address: string; insecure: boolean } {
  const u = new URL(apiUrl);
  return { address: u.host, insecure: u.protocol === 'http:' };
}

/** localhost, 127.0.0.0/8, ::1, 0.0.0.0: an address a cluster's nodes reach themselves by, not Skiff. */
export function isLoopback(address: string): boolean {
  const host = address.startsWith('[') ? address.slice(1, address.indexOf(']')) : address.replace(/:\d+$/, '');
  return host === 'localhost' || host.endsWith('.localhost') || /^127\.\d+\.\d+\.\d+$/.test(host) || host === '::1' || host === '0.0.0.0' || host === '::';
}

/** An image of Skiff's registry: its repository and what follows it (`:tag`, `@sha256:…`). */
export function skiffImage(image: string, skiffRegistry: string): { repository: string; reference: string } | undefined {
  const slash = image.indexOf('/');
  let rest = image;
  if (slash >= 0 && isRegistryHost(image.slice(0, slash))) {
    const host = image.slice(0, slash).toLowerCase();
    if (host !== skiffRegistry.toLowerCase() && !isLoopback(host)) return undefined;
    rest = image.slice(slash + 1);
  }
  const at = rest.indexOf('@');
  const beforeDigest = at < 0 ? rest : rest.slice(0, at);
  const colon = beforeDigest.lastIndexOf(':');
  const end = colon >= 0 ? colon : beforeDigest.length;
  return { repository: rest.slice(0, end), reference: rest.slice(end) };
}

export interface ClusterImage {
  /** the image the export names */
  image: string;
  /** what to copy where for the cluster to pull it, when rewritten */
  copy?: { from: string; to: string };
  /** why the cluster cannot pull it as written (no --registry) */
  warning?: string;
}

/**
 * The image a cluster is told to pull: with `registry`, an image of Skiff's registry becomes
 * `registry/repo` with the same tag and digest; without, it stays and a warning says why a cluster
 * cannot pull it. Another registry's image is left alone.
 */
export function imageForCluster(image: string, o: { registry?: string; skiffRegistry: string }): ClusterImage {
  const own = skiffImage(image, o.skiffRegistry);
  if (!own) return { image };
  const from = `${o.skiffRegistry}/${own.repository}${own.reference}`;
  if (o.registry !== undefined) {
    const to = `${o.registry}/${own.repository}${own.reference}`;
    return { image: to, copy: { from, to } };
  }
  const where = isLoopback(o.skiffRegistry) ? `${o.skiffRegistry}, a loopback address` : o.skiffRegistry;
  return {
    image,
    warning: `${image} is in Skiff's registry (${where}), which a cluster cannot pull from as written (an image with no registry host is looked for on Docker Hub): copy it to a registry the cluster can pull from and export with --registry HOST[/PREFIX] (and --pull-secret NAME for a private one)`,
  };
}

/** The `skopeo copy` line that copies one image from Skiff's registry (the CLI's token, $SKIFF_TOKEN) to `to`, digest and all. */
export function skopeoCopy(copy: { from: string; to: string }, o: { insecureSource: boolean }): string {
  return ['skopeo copy --all', ...(o.insecureSource ? ['--src-tls-verify=false'] : []), '--src-creds "skiff:$SKIFF_TOKEN"', `docker://${copy.from}`, `docker://${copy.to}`].join(' ');
}

/** A Knative Service (knative/export.ts) whose pod pulls with the Secret `name`: `spec.template.spec.imagePullSecrets`. */
export function withPullSecret(manifest: Obj, name: string): Obj {
  const spec = manifest.spec as { template: { spec: Obj } } & Obj;
  return { ...manifest, spec: { ...spec, template: { ...spec.template, spec: { ...spec.template.spec, imagePullSecrets: [{ name }] } } } };
}
