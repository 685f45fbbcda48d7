// registry/paths: parses a /v2 request path into an endpoint. Names contain '/', so the endpoint is
// matched from the right: the longest name for which the rest is a known endpoint.
export type V2Route =
  | { kind: 'catalog' }
  | { kind: 'tags'; name: string }
  | { kind: 'manifest'; name: string; reference: string }
  | { kind: 'blob'; name: string; digest: string }
  | { kind: 'upload-start'; name: string }
  | { kind: 'upload'; name: string; id: string }
  | { kind: 'referrers'; name: string; digest: string };

const ROUTE_RE = /^\/v2\/(.+?)\/(?:(tags\/list)|manifests\/([^/]+)|blobs\/uploads\/?|blobs\/uploads\/([^/]+)|blobs\/([^/]+)|referrers\/([^/]+))$/;

export function parseV2Path(pathname: string): V2Route | undefined {
  let path: string;
  try {
    path = decodeURIComponent(pathname);
  } catch {
    return undefined;
  }
  if (path === '/v2/_catalog') return { kind: 'catalog' };
  // Lazy name + anchored tail: tries the shortest name first, so "a/blobs/uploads/" is an upload start in "a".
  const m = ROUTE_RE.exec(path);
  if (!m) return undefined;
  const name = m[1]!;
  if (m[2]) return { kind: 'tags', name };
  if (m[3]) return { kind: 'manifest', name, reference: m[3] };
  if (m[4]) return { kind: 'upload', name, id: m[4] };
  if (m[5]) return { kind: 'blob', name, digest: m[5] };
  if (m[6]) return { kind: 'referrers', name, digest: m[6] };
  return { kind: 'upload-start', name };
}
