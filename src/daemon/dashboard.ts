// daemon/dashboard: serves the built dashboard (dist/web, made by scripts/build-web.mjs) on the control
// API's listener — `GET /` the page, `GET /assets/NAME` its content-hashed scripts and styles. Static
// files and nothing else: the dashboard reads and changes everything through the public /api/v1 like
// any other client, so this is not part of the API (no token, hidden from the OpenAPI document) and
// lives with the composition root, which knows where the installation's files are.
//
// Only the files found at startup are served, from memory: a request names a key of a map, never a
// path on disk, so `..`, encoded slashes or symlinks cannot reach anything else. A rebuild needs a
// daemon restart. Without a build (running from source) `/` answers 503 saying to run `npm run build`.
//
//   dist/web/
//   ├── index.html            → GET /              Cache-Control: no-cache (revalidated by ETag)
//   └── assets/main-HASH.js   → GET /assets/NAME   Cache-Control: public, max-age=31536000, immutable
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { createHash } from 'node:crypto';
import { existsSync, promises as fsp } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { SkiffError } from '../core/errors.ts';
import type { Logger } from '../core/logger.ts';
import { sendApiError } from '../api/errors.ts';

/** docs/dashboard.md: the page's own files and the API, nothing inline, nothing from elsewhere. */
export const DASHBOARD_CSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

const SECURITY_HEADERS = { 'content-security-policy': DASHBOARD_CSP, 'x-content-type-options': 'nosniff', 'referrer-policy': 'no-referrer' };

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.txt': 'text/plain; charset=utf-8',
};

interface StaticFile {
  body: Buffer;
  /** present when gzip makes it smaller (text types) */
  gzip?: Buffer;
  type: string;
  etag: string;
}

export interface DashboardFiles {
  index: StaticFile;
  /** file name → file; the only names /assets/ answers */
  assets: Map<string, StaticFile>;
}

/** dist/web of the installation this code runs from: from source (src/daemon/) and from the build
 *  (dist/cli.mjs or dist/chunks/) alike, the nearest directory up with a package.json is the root. */
export function defaultDashboardDir(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5 && !existsSync(path.join(dir, 'package.json')); i++) dir = path.dirname(dir);
  return path.join(dir, 'dist', 'web');
}

async function loadFile(file: string): Promise<StaticFile> {
  const body = await fsp.readFile(file);
  const type = TYPES[path.extname(file).toLowerCase()] ?? 'application/octet-stream';
  // weak: the gzip and plain bodies are one resource (RFC 9110 8.8.1)
  const etag = `W/"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"`;
  const zipped = /^(text\/|application\/json|image\/svg)/.test(type) ? gzipSync(body, { level: 9 }) : undefined;
  return { body, type, etag, ...(zipped && zipped.length < body.length ? { gzip: zipped } : {}) };
}

/** The built dashboard in `dir`, or undefined when there is none (no index.html). */
export async function loadDashboard(dir: string): Promise<DashboardFiles | undefined> {
  if (!existsSync(path.join(dir, 'index.html'))) return undefined;
  const index = await loadFile(path.join(dir, 'index.html'));
  const assets = new Map<string, StaticFile>();
  const entries = await fsp.readdir(path.join(dir, 'assets'), { withFileTypes: true }).catch(() => []);
  for (const e of entries) {
    // plain files with plain names only (esbuild writes NAME-HASH.EXT); no dot files, no links, no dirs
    if (e.isFile() && /^[A-Za-z0-9_-][A-Za-z0-9._-]*$/.test(e.name)) assets.set(e.name, await loadFile(path.join(dir, 'assets', e.name)));
  }
  return { index, assets };
}

function acceptsGzip(req: FastifyRequest): boolean {
  const header = req.headers['accept-encoding'];
  if (typeof header !== 'string') return false;
  // "gzip", "gzip;q=0.8" yes; "gzip;q=0" no
  return header.split(',').some((part) => {
    const [coding, ...params] = part.split(';').map((p) => p.trim().toLowerCase());
    return coding === 'gzip' && !params.some((p) => /^q=0(\.0*)?$/.test(p));
  });
}

function send(req: FastifyRequest, reply: FastifyReply, file: StaticFile, cacheControl: string): FastifyReply {
  reply.headers(SECURITY_HEADERS).header('cache-control', cacheControl).header('etag', file.etag).header('content-type', file.type);
  if (file.gzip) reply.header('vary', 'accept-encoding');
  if (req.headers['if-none-match'] === file.etag) return reply.code(304).send();
  if (file.gzip && acceptsGzip(req)) return reply.header('content-encoding', 'gzip').send(file.gzip);
  return reply.send(file.body);
}

function notFound(req: FastifyRequest, reply: FastifyReply): FastifyReply {
  reply.headers(SECURITY_HEADERS);
  return sendApiError(reply, new SkiffError('NOT_FOUND', `no endpoint ${req.method} ${req.url.slice(0, 200)}`), req);
}

export const NOT_BUILT_MESSAGE = 'The Skiff dashboard is not built (no dist/web/index.html). Run `npm run build` in the Skiff checkout and restart the daemon; the API at /api/v1 works without it.\n';

/** GET / and GET /assets/* on the control listener; `files` undefined: / answers 503 (not built). */
export function registerDashboard(app: FastifyInstance, files: DashboardFiles | undefined, log?: Logger): void {
  if (!files) log?.warn('the dashboard is not built (dist/web is missing): run `npm run build`; / answers 503 until then');
  app.get('/', { schema: { hide: true } }, async (req, reply) => {
    if (!files) return reply.code(503).headers(SECURITY_HEADERS).header('cache-control', 'no-store').type('text/plain; charset=utf-8').send(NOT_BUILT_MESSAGE);
    return send(req, reply, files.index, 'no-cache');
  });
  app.get('/assets/*', { schema: { hide: true } }, async (req, reply) => {
    const name = (req.params as { '*': string })['*'];
    const file = files?.assets.get(name);
    return file ? send(req, reply, file, 'public, max-age=31536000, immutable') : notFound(req, reply);
  });
}
