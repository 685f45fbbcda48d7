// registry/http: the OCI distribution-spec v1.1 HTTP surface (/v2/...) over Registry and UploadManager
// (both built on the blob-store port and the metadata repository, ports.ts).
// Repository names contain '/', so one wildcard route takes /v2/* and parseV2Path() dispatches.
// Errors are thrown as SkiffError and written in the OCI shape by the single serializer in errors.ts.
// Every repository belongs to a project (project-access.ts): another project's is answered as a
// repository that does not exist, before the registry is asked anything about it.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { SkiffError } from '../core/errors.ts';
import { parseDigest } from '../core/digest.ts';
import { assertRepositoryName } from '../core/names.ts';
import type { Referrer, Registry } from './registry.ts';
import { REFERRERS_MEDIA_TYPE, unknownBlob, unknownManifest, unknownRepository } from './registry.ts';
import { unknownUpload, type UploadManager } from './uploads.ts';
import { accepts } from './manifest.ts';
import { parseV2Path, type V2Route } from './paths.ts';
import { readBody } from './body.ts';
import { parseRangeHeader, parseContentRange } from './ranges.ts';
import { sendOciError } from './errors.ts';
import { permits, rolesWith, tokenFromAuthorization, type TokenRole } from '../core/auth.ts';
import type { ProjectNames } from './ports.ts';
import { filteredCatalog, mayUseRepository, pushDenied } from './project-access.ts';

/** The caller, as the registry needs it: its role, and its token's project ('*': every project). */
export interface RegistryPrincipal {
  role: TokenRole;
  tenant: string;
}

/** The consumer-owned auth port: resolves an Authorization header to a principal, or undefined. */
export interface RegistryAuth {
  authenticate(authorization: string | undefined): Promise<RegistryPrincipal | undefined>;
}

export interface RegistryHttpDeps {
  registry: Registry;
  uploads: UploadManager;
  auth: RegistryAuth;
  /** which names are projects, from memory (asked on every request naming a repository) */
  projects: ProjectNames;
}

type Query = Record<string, string | undefined>;

export function registerRegistryRoutes(app: FastifyInstance, deps: RegistryHttpDeps): void {
  const { registry, uploads, auth, projects } = deps;
  /** the principal of each authenticated request, from the onRequest hook to its handler */
  const principals = new WeakMap<FastifyRequest, RegistryPrincipal>();

  app.register(async (v2) => {
    // Bodies are streamed by the handlers themselves (layers can be gigabytes).
    v2.removeAllContentTypeParsers();
    v2.addContentTypeParser('*', (_req, _payload, done) => done(null, undefined));
    v2.setErrorHandler((err, req, reply) => sendOciError(reply, err, req));

    v2.addHook('onRequest', async (req, reply) => {
      reply.header('Docker-Distribution-API-Version', 'registry/2.0');
      // Only the token route itself is open: a prefix test would also open repositories named token*.
      if (req.routeOptions.url === '/v2/token') return;
      const principal = await auth.authenticate(req.headers.authorization);
      if (!principal) {
        throw new SkiffError('UNAUTHORIZED', 'authentication required: log in with any user name and a Skiff API token as password');
      }
      const permission = req.method === 'GET' || req.method === 'HEAD' ? 'images:pull' : 'images:push';
      if (!permits(principal, permission)) {
        throw new SkiffError('DENIED', `a ${principal.role} token may not push or delete images: that needs one of the roles ${rolesWith(permission).join(', ')}`);
      }
      principals.set(req, principal);
    });

    // Docker token-auth flow: clients trade Basic credentials for a bearer token here.
    v2.get('/v2/token', async (req, reply) => {
      const principal = await auth.authenticate(req.headers.authorization);
      if (!principal) throw new SkiffError('UNAUTHORIZED', 'invalid credentials: use any user name and a Skiff API token as password');
      const token = tokenFromAuthorization(req.headers.authorization);
      return reply.send({ token, access_token: token, expires_in: 3600, issued_at: new Date().toISOString() });
    });

    const versionCheck = async (_req: FastifyRequest, reply: FastifyReply) => reply.header('content-type', 'application/json').send('{}');
    v2.get('/v2/', versionCheck);
    // Some clients probe without the trailing slash.
    v2.get('/v2', versionCheck);

    v2.all('/v2/*', async (req, reply) => {
      const route = parseV2Path(req.url.split('?')[0]!);
      if (!route) throw new SkiffError('NOT_FOUND', `no registry endpoint at ${req.url.split('?')[0]!.slice(0, 200)}`);
      if (route.kind !== 'catalog') assertRepositoryName(route.name);
      const principal = principals.get(req);
      if (!principal) throw new SkiffError('INTERNAL', 'a registry request reached its handler unauthenticated');
      if (route.kind !== 'catalog' && !mayUseRepository(principal.tenant, route.name, projects)) return notThere(route, principal, req, reply);
      return dispatch(route, principal, req, reply);
    });
  });

  /**
   * Another project's repository, answered as the registry answers one that does not exist (the same
   * errors, from registry.ts): its existence, tags and blobs stay unknown. Writes are refused (a push
   * into a missing repository would create it). Only the endpoints dispatch() serves are mirrored;
   * anything else is UNSUPPORTED there too. Nothing here reads the repository.
   */
  async function notThere(route: V2Route, principal: RegistryPrincipal, req: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
    const method = req.method;
    const read = method === 'GET' || method === 'HEAD';
    switch (route.kind) {
      case 'tags':
        if (method === 'GET') throw unknownRepository(route.name);
        break;
      case 'manifest':
        if (read) throw unknownRepository(route.name);
        if (method === 'DELETE') throw unknownManifest(route.name, route.reference);
        if (method === 'PUT') throw pushDenied(principal.tenant, route.name);
        break;
      case 'blob':
        parseDigest(route.digest);
        if (read || method === 'DELETE') throw unknownBlob(route.name, route.digest);
        break;
      case 'referrers':
        if (method !== 'GET') break;
        parseDigest(route.digest);
        // a repository without manifests has no referrers: an empty index
        return sendReferrers(reply, [], (req.query as Query).artifactType);
      case 'upload-start':
        if (method === 'POST') throw pushDenied(principal.tenant, route.name);
        break;
      case 'upload':
        // no session of this caller's is there: starting one (above) was refused
        if (['GET', 'PATCH', 'PUT', 'DELETE'].includes(method)) throw unknownUpload(route.id);
        break;
    }
    throw new SkiffError('UNSUPPORTED', `${method} is not supported on this endpoint`);
  }

  async function dispatch(route: V2Route, principal: RegistryPrincipal, req: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
    const q = req.query as Query;
    const method = req.method;
    switch (route.kind) {
      case 'catalog': {
        if (method !== 'GET') break;
        // the caller's project's repositories only; a token spanning every project sees them all
        const list = (last: string, n: number) => filteredCatalog((l, m) => registry.catalog(l, m), (repo) => mayUseRepository(principal.tenant, repo, projects), last, n);
        return paginated(reply, `/v2/_catalog`, q, list, (items) => ({ repositories: items }));
      }
      case 'tags':
        if (method !== 'GET') break;
        return paginated(reply, `/v2/${route.name}/tags/list`, q, (last, n) => registry.listTags(route.name, last, n), (tags) => ({ name: route.name, tags }));
      case 'manifest':
        if (method === 'GET' || method === 'HEAD') return getManifest(route.name, route.reference, req, reply);
        if (method === 'PUT') return putManifest(route.name, route.reference, req, reply);
        if (method === 'DELETE') {
          await registry.deleteManifest(route.name, route.reference);
          return reply.code(202).send();
        }
        break;
      case 'blob':
        parseDigest(route.digest);
        if (method === 'GET' || method === 'HEAD') return getBlob(route.name, route.digest, req, reply);
        if (method === 'DELETE') {
          await registry.deleteBlob(route.name, route.digest);
          return reply.code(202).send();
        }
        break;
      case 'upload-start':
        if (method === 'POST') return startUpload(route.name, principal, q, req, reply);
        break;
      case 'upload':
        return upload(route.name, route.id, method, q, req, reply);
      case 'referrers':
        if (method !== 'GET') break;
        return referrers(route.name, route.digest, q, reply);
    }
    throw new SkiffError('UNSUPPORTED', `${method} is not supported on this endpoint`);
  }

  async function getManifest(repo: string, reference: string, req: FastifyRequest, reply: FastifyReply) {
    const manifest = await registry.resolveManifest(repo, reference);
    if (!accepts(req.headers.accept, manifest.mediaType)) {
      throw new SkiffError('MANIFEST_UNKNOWN', `manifest ${reference} is ${manifest.mediaType}, which the Accept header does not allow`);
    }
    reply.header('content-type', manifest.mediaType).header('docker-content-digest', manifest.digest).header('etag', `"${manifest.digest}"`);
    if (req.method === 'HEAD') return reply.header('content-length', manifest.size).send();
    return reply.send(await registry.readManifest(manifest));
  }

  async function putManifest(repo: string, reference: string, req: FastifyRequest, reply: FastifyReply) {
    const bytes = await readBody(req.raw, registry.maxManifestBytes);
    const { digest, subject } = await registry.putManifest(repo, reference, bytes, req.headers['content-type']);
    if (subject) reply.header('oci-subject', subject);
    return reply.code(201).header('location', `/v2/${repo}/manifests/${digest}`).header('docker-content-digest', digest).send();
  }

  async function getBlob(repo: string, digest: string, req: FastifyRequest, reply: FastifyReply) {
    const blob = await registry.statBlob(repo, digest);
    reply.header('docker-content-digest', digest).header('etag', `"${digest}"`).header('accept-ranges', 'bytes');
    reply.header('content-type', 'application/octet-stream');
    const range = parseRangeHeader(req.headers.range, blob.size);
    if (req.method === 'HEAD') return reply.header('content-length', blob.size).send();
    if (range) {
      reply.code(206).header('content-range', `bytes ${range.start}-${range.end}/${blob.size}`);
      return reply.header('content-length', range.end - range.start + 1).send(registry.readBlob(digest, range));
    }
    return reply.header('content-length', blob.size).send(registry.readBlob(digest));
  }

  async function startUpload(repo: string, principal: RegistryPrincipal, q: Query, req: FastifyRequest, reply: FastifyReply) {
    if (q.mount) {
      parseDigest(q.mount);
      // mounting from another project's repository is mounting from one that does not exist: not
      // possible (a success would confirm the blob is there)
      const from = q.from && q.from !== repo && mayUseRepository(principal.tenant, assertRepositoryName(q.from), projects) ? q.from : undefined;
      const mounted = from ? await registry.mountBlob(repo, from, q.mount) : undefined;
      if (mounted) return blobCreated(reply, repo, q.mount);
      // Mount not possible: the spec says to fall back to a regular upload session.
    }
    const session = await uploads.create(repo);
    if (q.digest) {
      parseDigest(q.digest);
      try {
        await uploads.append(repo, session.id, req.raw, { length: contentLength(req) });
        await uploads.finish(repo, session.id, q.digest);
      } catch (err) {
        await uploads.cancel(repo, session.id).catch(() => {});
        throw err;
      }
      return blobCreated(reply, repo, q.digest);
    }
    drain(req);
    return uploadAccepted(reply, repo, session.id, 0);
  }

  async function upload(repo: string, id: string, method: string, q: Query, req: FastifyRequest, reply: FastifyReply) {
    switch (method) {
      case 'GET': {
        const s = await uploads.status(repo, id);
        return uploadAccepted(reply.code(204), repo, id, s.offset);
      }
      case 'PATCH': {
        const range = parseContentRange(req.headers['content-range']);
        const s = await uploads.append(repo, id, req.raw, { start: range?.start, length: range ? range.end - range.start + 1 : contentLength(req) });
        return uploadAccepted(reply, repo, id, s.offset);
      }
      case 'PUT': {
        if (!q.digest) throw new SkiffError('DIGEST_INVALID', 'the digest query parameter is required to complete an upload');
        parseDigest(q.digest);
        const length = contentLength(req);
        if (length !== 0) {
          const range = parseContentRange(req.headers['content-range']);
          await uploads.append(repo, id, req.raw, { start: range?.start, length });
        }
        await uploads.finish(repo, id, q.digest);
        return blobCreated(reply, repo, q.digest);
      }
      case 'DELETE':
        await uploads.cancel(repo, id);
        return reply.code(204).send();
    }
    throw new SkiffError('UNSUPPORTED', `${method} is not supported on an upload session`);
  }

  async function referrers(repo: string, digest: string, q: Query, reply: FastifyReply) {
    parseDigest(digest);
    return sendReferrers(reply, await registry.referrers(repo, digest, q.artifactType), q.artifactType);
  }
}

function sendReferrers(reply: FastifyReply, manifests: Referrer[], artifactType: string | undefined) {
  if (artifactType !== undefined) reply.header('oci-filters-applied', 'artifactType');
  // A Buffer, not a string: fastify would append "; charset=utf-8" to a string's Content-Type,
  // and the spec requires exactly the index media type.
  return reply
    .header('content-type', REFERRERS_MEDIA_TYPE)
    .send(Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: REFERRERS_MEDIA_TYPE, manifests })));
}

async function paginated<T>(reply: FastifyReply, base: string, q: Query, list: (last: string, n: number) => Promise<string[]>, body: (items: string[]) => T) {
  const n = q.n === undefined ? undefined : Number(q.n);
  if (n !== undefined && !(Number.isSafeInteger(n) && n >= 0)) throw new SkiffError('BAD_REQUEST', `n must be a non-negative integer`);
  const last = q.last ?? '';
  if (n === 0) return reply.send(body([]));
  const limit = n ?? 100_000;
  const items = await list(last, limit + 1);
  const page = items.slice(0, limit);
  if (items.length > limit) {
    reply.header('link', `<${base}?n=${limit}&last=${encodeURIComponent(page.at(-1)!)}>; rel="next"`);
  }
  return reply.send(body(page));
}

function blobCreated(reply: FastifyReply, repo: string, digest: string) {
  return reply.code(201).header('location', `/v2/${repo}/blobs/${digest}`).header('docker-content-digest', digest).header('content-length', 0).send();
}

function uploadAccepted(reply: FastifyReply, repo: string, id: string, offset: number) {
  if (reply.statusCode === 200) reply.code(202);
  return reply
    .header('location', `/v2/${repo}/blobs/uploads/${id}`)
    .header('docker-upload-uuid', id)
    .header('range', `0-${Math.max(0, offset - 1)}`)
    .header('content-length', 0)
    .send();
}

function contentLength(req: FastifyRequest): number | undefined {
  const v = req.headers['content-length'];
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isSafeInteger(n) || n < 0) throw new SkiffError('SIZE_INVALID', 'Content-Length is invalid');
  return n;
}

function drain(req: FastifyRequest): void {
  req.raw.resume();
}
