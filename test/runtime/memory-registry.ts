// test/runtime/memory-registry: MemoryImages (memory-images.ts) served read-only over the OCI
// distribution API (GET/HEAD /v2/, manifests, blobs), so Docker engines — a swarm's nodes — can pull
// the runtime tests' images without a real registry. Plain HTTP: the engines list its address as an
// insecure registry. Counts pulls per path, so a test can tell which node pulled what.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { MemoryImages } from './memory-images.ts';

export interface MemoryRegistry {
  /** HOST:PORT */
  address: string;
  /** requests seen, by method and path */
  requests: string[];
  close(): Promise<void>;
}

export async function serveMemoryImages(images: MemoryImages, host: string): Promise<MemoryRegistry> {
  const requests: string[] = [];
  const server = http.createServer((req, res) => {
    const url = (req.url ?? '/').split('?')[0]!;
    requests.push(`${req.method} ${url}`);
    res.setHeader('Docker-Distribution-API-Version', 'registry/2.0');
    const send = (status: number, body: Buffer, type: string, digest?: string) => {
      res.writeHead(status, { 'content-type': type, 'content-length': body.length, ...(digest ? { 'docker-content-digest': digest } : {}) });
      res.end(req.method === 'HEAD' ? undefined : body);
    };
    const notFound = (code: string) => send(404, Buffer.from(JSON.stringify({ errors: [{ code, message: `${url} unknown` }] })), 'application/json');
    if (url === '/v2/' || url === '/v2') return send(200, Buffer.from('{}'), 'application/json');
    const m = /^\/v2\/(.+)\/(manifests|blobs)\/([^/]+)$/.exec(url);
    if (!m || (req.method !== 'GET' && req.method !== 'HEAD')) return notFound('UNSUPPORTED');
    const [, repo, kind, ref] = m as unknown as [string, string, string, string];
    if (kind === 'manifests') {
      images.manifest(repo, ref).then((s) => send(200, s.bytes, s.mediaType, s.digest), () => notFound('MANIFEST_UNKNOWN'));
      return;
    }
    images.blob(ref).then((b) => send(200, b, 'application/octet-stream', ref), () => notFound('BLOB_UNKNOWN'));
  });
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(0, host, resolve));
  const { port } = server.address() as AddressInfo;
  return {
    address: `${host}:${port}`,
    requests,
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}
