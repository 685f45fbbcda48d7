// api/secrets-routes: /api/v1/secrets — set (a new version), list, describe, remove. A secret is the
// caller's tenant's: another tenant's is not there. Answers carry names, versions, key names and times,
// never a value (no route returns one, and the response schemas have no field that could hold one).
import type { FastifyInstance } from 'fastify';
import { SECRET_KEY_RE, SECRET_LIMITS, SECRET_NAME_RE, type SecretSetBody } from '../core/secrets.ts';
import type { SecretsPort } from './ports.ts';
import { needs, owned } from './auth.ts';
import { errorRef as error } from './errors.ts';

const str = { type: 'string' } as const;
const int = { type: 'integer' } as const;
const keys = { type: 'array', items: str, description: 'key names (never values)' } as const;

const secretView = {
  type: 'object',
  required: ['name', 'version', 'keys', 'createdAt', 'updatedAt'],
  properties: {
    name: str,
    version: { type: 'integer', description: 'the latest version' },
    keys,
    createdAt: str,
    updatedAt: str,
    versions: { type: 'array', description: 'newest first', items: { type: 'object', required: ['version', 'keys', 'createdAt'], properties: { version: int, keys, createdAt: str } } },
    usedBy: {
      type: 'array',
      description: 'revisions using it, with the version each pinned; serving: the latest revision of its service or one the traffic split names',
      items: { type: 'object', required: ['service', 'revision', 'version', 'serving'], properties: { service: str, revision: str, version: int, serving: { type: 'boolean' } } },
    },
  },
} as const;

const nameParam = { type: 'object', required: ['name'], properties: { name: { type: 'string', pattern: SECRET_NAME_RE.source } } } as const;

const setBody = {
  type: 'object',
  required: ['data'],
  additionalProperties: false,
  properties: {
    data: {
      type: 'object',
      maxProperties: SECRET_LIMITS.keys,
      propertyNames: { pattern: SECRET_KEY_RE.source },
      additionalProperties: { type: 'string' },
      description: `key → value (UTF-8 text); at most ${SECRET_LIMITS.keys} keys and ${SECRET_LIMITS.bytes / 1024} KiB in all`,
    },
    merge: { type: 'boolean', description: 'keep the latest version\'s keys not given (default: the new version holds exactly `data`)' },
    remove: { type: 'array', items: { type: 'string', pattern: SECRET_KEY_RE.source }, description: 'keys to drop from the latest version (with merge)' },
  },
} as const;

export function registerSecretRoutes(api: FastifyInstance, secrets: SecretsPort): void {
  api.put('/secrets/:name', {
    config: owned('secrets:write', 'self'),
    schema: {
      summary: 'Set a secret: a new version (the body states the whole secret unless merge is true); running revisions keep the version they pinned',
      tags: ['secrets'],
      params: nameParam,
      body: setBody,
      response: { 200: secretView, 400: error },
    },
  }, async (req) => secrets.set(req.principal!.tenant, (req.params as { name: string }).name, req.body as SecretSetBody));

  api.get('/secrets', { config: needs('secrets:read'), schema: { summary: 'List the secrets of the caller\'s tenant (names, versions, key names; never values)', tags: ['secrets'], response: { 200: { type: 'object', required: ['secrets'], properties: { secrets: { type: 'array', items: secretView } } } } } }, async (req) => ({
    secrets: await secrets.list(req.principal!.tenant),
  }));

  api.get('/secrets/:name', { config: owned('secrets:read', 'self'), schema: { summary: 'Describe a secret: its versions with their key names, and the revisions using it (never values)', tags: ['secrets'], params: nameParam, response: { 200: secretView, 404: error } } }, async (req) =>
    secrets.get(req.principal!.tenant, (req.params as { name: string }).name),
  );

  api.delete('/secrets/:name', { config: owned('secrets:write', 'self'), schema: { summary: 'Remove a secret with every version (409 while the latest or a routed revision of a service uses it)', tags: ['secrets'], params: nameParam, response: { 204: { type: 'null' }, 404: error, 409: error } } }, async (req, reply) => {
    await secrets.remove(req.principal!.tenant, (req.params as { name: string }).name);
    return reply.code(204).send();
  });
}
