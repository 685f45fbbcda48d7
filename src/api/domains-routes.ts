// api/domains-routes: /api/v1/domains — custom domains: add (routing the host to a service, with a
// certificate by ACME or supplied), list, describe (certificate status, validity, last error and
// back-off), remove. A private key goes in (add with `key`) and never comes out.
import type { FastifyInstance } from 'fastify';
import type { DomainDocument } from '../core/domains.ts';
import { SERVICE_NAME_RE } from '../core/names.ts';
import type { DomainsPort } from './ports.ts';
import { errorRef as error } from './errors.ts';
import { needs, owned, visibleTo } from './auth.ts';

const nullableString = { type: ['string', 'null'] } as const;
const nullableTime = { type: ['string', 'null'], format: 'date-time' } as const;

export const domainViewSchema = {
  type: 'object',
  required: ['host', 'service', 'tenant', 'redirect_http', 'source', 'status', 'not_before', 'not_after', 'issuer', 'renews_at', 'last_error', 'attempts', 'next_attempt_at', 'url', 'created_at'],
  properties: {
    host: { type: 'string' },
    service: { type: 'string' },
    tenant: { type: 'string' },
    redirect_http: { type: 'boolean', description: 'plain-HTTP requests for the host are redirected (308) to https:// once its certificate is served' },
    source: { type: 'string', enum: ['acme', 'user'], description: 'acme: obtained and renewed by Skiff; user: supplied with the domain, never renewed by Skiff' },
    status: { type: 'string', enum: ['pending', 'ready', 'failing', 'expired'], description: 'pending: no certificate yet; ready: served and valid; failing: the last attempt failed (the current certificate is still served); expired' },
    not_before: nullableTime,
    not_after: nullableTime,
    issuer: nullableString,
    renews_at: { ...nullableTime, description: 'when Skiff next tries to obtain a certificate (2/3 of its lifetime, or the next retry after a failure)' },
    last_error: { ...nullableString, description: 'why the last attempt failed; null after a success' },
    attempts: { type: 'integer', description: 'failed attempts since the last success' },
    next_attempt_at: nullableTime,
    url: { ...nullableString, description: 'https://HOST[:PORT]/, or null while the gateway has no TLS port (gatewayTls)' },
    created_at: { type: 'string', format: 'date-time' },
  },
} as const;

export const domainDocumentSchema = {
  type: 'object',
  required: ['host', 'service'],
  additionalProperties: false,
  properties: {
    host: { type: 'string', maxLength: 253, description: 'a host name such as api.example.com (no scheme, port or wildcard)' },
    service: { type: 'string', pattern: SERVICE_NAME_RE.source, description: 'a service of the caller’s tenant' },
    redirectHttp: { type: 'boolean', default: true, description: 'redirect plain HTTP for the host to https://' },
    certificate: { type: 'string', maxLength: 65536, description: 'PEM certificate chain, leaf first (with key); omitted: obtained by ACME' },
    key: { type: 'string', maxLength: 16384, description: 'PEM private key of the certificate (never returned)' },
  },
} as const;

const hostParam = { type: 'object', required: ['host'], properties: { host: { type: 'string', maxLength: 253 } } } as const;

export function registerDomainRoutes(api: FastifyInstance, domains: DomainsPort): void {
  api.post('/domains', {
    config: needs('domains:write'),
    schema: {
      summary: 'Add a custom domain: route the host to a service and serve it over TLS (certificate by ACME HTTP-01, or the one given)',
      tags: ['domains'],
      body: domainDocumentSchema,
      response: { 201: domainViewSchema, 400: error, 403: error, 404: error, 409: error },
    },
  }, async (req, reply) => reply.code(201).send(await domains.add(req.body as DomainDocument, req.principal!.tenant)));

  api.get('/domains', { config: needs('domains:read'), schema: { summary: 'List custom domains with their certificates’ status', tags: ['domains'], response: { 200: { type: 'object', required: ['domains'], properties: { domains: { type: 'array', items: domainViewSchema } } } } } }, async (req) => ({
    domains: (await domains.list()).filter((v) => visibleTo(req.principal!, v.tenant)),
  }));

  api.get('/domains/:host', { config: owned('domains:read', 'domain'), schema: { summary: 'Describe a custom domain: its service, certificate validity, renewal, last error', tags: ['domains'], params: hostParam, response: { 200: domainViewSchema, 400: error, 404: error } } }, async (req) =>
    domains.get((req.params as { host: string }).host),
  );

  api.delete('/domains/:host', { config: owned('domains:write', 'domain'), schema: { summary: 'Remove a custom domain, its route and its certificate', tags: ['domains'], params: hostParam, response: { 204: { type: 'null' }, 400: error, 403: error, 404: error } } }, async (req, reply) => {
    await domains.remove((req.params as { host: string }).host, req.principal!.tenant);
    return reply.code(204).send();
  });
}

