// api/registry-browse-routes: /api/v1/registry/repositories — the registry's repositories, their tagged
// manifests (digests, sizes, platforms) and referrers, and deleting a tag or a manifest. The dashboard
// reaches /api/v1 only (its session cookie has Path=/api/v1), so it browses here, not at /v2. The
// scope is the registry's own (registry/project-access.ts): a project's token sees its project's
// repositories; another project's answers as one that does not exist (the /v2 errors, 404). Reading
// needs images:pull and deleting images:push — the permissions /v2 asks for the same operations.
//
// A repository name has slashes (team-a/app): it is ONE path segment here, its slashes encoded
// (team-a%2Fapp; SkiffClient and the dashboard encodeURIComponent it). The router decodes it; the
// schema then allows only a valid repository name, so `..`, doubly encoded or empty components are
// refused (400) before anything is read.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { ALL_PROJECTS } from '../core/projects.ts';
import type { RegistryBrowsePort } from './ports.ts';
import { errorRef as error } from './errors.ts';
import { needs, owned } from './auth.ts';

const str = { type: 'string' } as const;
const int = { type: 'integer' } as const;
// core/names.ts isRepositoryName as a pattern: components of [a-z0-9]+((.|_|__|-+)[a-z0-9]+)*, '/' between
const COMPONENT = '[a-z0-9]+(?:(?:\\.|_|__|-+)[a-z0-9]+)*';
const repository = { type: 'string', maxLength: 255, pattern: `^${COMPONENT}(?:/${COMPONENT})*$`, description: 'the repository name, its slashes encoded as %2F (one path segment)' } as const;
const tag = { type: 'string', pattern: '^[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}$' } as const;
const digest = { type: 'string', maxLength: 200, pattern: '^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$' } as const;

const repositoryView = { type: 'object', required: ['name', 'project', 'tags'], properties: { name: str, project: str, tags: { ...int, description: 'tags it has' } } } as const;
const referrerView = { type: 'object', required: ['digest', 'mediaType', 'size'], properties: { digest: str, mediaType: str, size: int, artifactType: str } } as const;
const manifestView = {
  type: 'object',
  required: ['digest', 'mediaType', 'size', 'tags', 'createdAt', 'referrers'],
  properties: {
    digest: str,
    mediaType: str,
    artifactType: str,
    size: { ...int, description: 'the manifest itself, bytes' },
    contentSize: { ...int, description: 'an image: its config and layers, bytes' },
    platforms: { type: 'array', items: str, description: 'an index: its manifests’ platforms' },
    tags: { type: 'array', items: str },
    createdAt: str,
    referrers: { type: 'array', items: referrerView, description: 'artifacts whose subject is this manifest (signatures, SBOMs)' },
  },
} as const;
const repositoryDetail = {
  type: 'object',
  required: ['name', 'project', 'manifests', 'truncated'],
  properties: { name: str, project: str, manifests: { type: 'array', items: manifestView, description: 'tagged manifests, newest first' }, truncated: { type: 'boolean', description: 'more tags than one listing reads (1000)' } },
} as const;

/** the caller as the registry scopes it: its project, or every project for a token spanning them all
 *  that names none (as /v2/_catalog shows such a token every repository) */
function tenantOf(req: FastifyRequest): string {
  const p = req.principal! as { tenant: string; allProjects?: boolean };
  return p.allProjects === true ? ALL_PROJECTS : p.tenant;
}

const repoOf = (req: FastifyRequest) => (req.params as { repository: string }).repository;

export function registerRegistryBrowseRoutes(api: FastifyInstance, browse: RegistryBrowsePort): void {
  api.get('/registry/repositories', {
    config: needs('images:pull'),
    schema: { summary: 'List the registry’s repositories the caller may pull from (its project’s), with their tag counts', tags: ['registry'], response: { 200: { type: 'object', required: ['repositories'], properties: { repositories: { type: 'array', items: repositoryView } } } } },
  }, async (req) => ({ repositories: await browse.repositories(tenantOf(req)) }));

  api.get('/registry/repositories/:repository', {
    config: owned('images:pull', 'self'),
    schema: { summary: 'A repository: its tagged manifests with digests, sizes, platforms and referrers', tags: ['registry'], params: { type: 'object', required: ['repository'], properties: { repository } }, response: { 200: repositoryDetail, 400: error, 404: error } },
  }, async (req) => browse.repository(tenantOf(req), repoOf(req)));

  api.delete('/registry/repositories/:repository/tags/:tag', {
    config: owned('images:push', 'self'),
    schema: { summary: 'Delete a tag (the manifest stays, under its digest and other tags), as DELETE /v2/{name}/manifests/{tag}', tags: ['registry'], params: { type: 'object', required: ['repository', 'tag'], properties: { repository, tag } }, response: { 204: { type: 'null' }, 400: error, 404: error } },
  }, async (req, reply) => {
    await browse.delete(tenantOf(req), repoOf(req), (req.params as { tag: string }).tag);
    return reply.code(204).send();
  });

  api.delete('/registry/repositories/:repository/manifests/:digest', {
    config: owned('images:push', 'self'),
    schema: { summary: 'Delete a manifest and every tag pointing at it, as DELETE /v2/{name}/manifests/{digest} (its blobs go at the next garbage collection)', tags: ['registry'], params: { type: 'object', required: ['repository', 'digest'], properties: { repository, digest } }, response: { 204: { type: 'null' }, 400: error, 404: error } },
  }, async (req, reply) => {
    await browse.delete(tenantOf(req), repoOf(req), (req.params as { digest: string }).digest);
    return reply.code(204).send();
  });
}
