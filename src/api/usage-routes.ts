// api/usage-routes: /api/v1/usage (`skiff usage`) and /api/v1/bill (`skiff bill`) — metering reports
// and invoices. A project's token sees its own project only: `?project=` naming another answers 404
// NOT_FOUND, as for any name it may not know. A token spanning every project ('*') sees all of them,
// or the one `?project=` names. (Permission: services:read for now; `usage:read` is the one meant.)
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { SkiffError } from '../core/errors.ts';
import { SERVICE_NAME_RE } from '../core/names.ts';
import type { UsagePort } from './ports.ts';
import { errorRef as error } from './errors.ts';
import { needs } from './auth.ts';

const dec = { type: 'string', pattern: '^-?\\d+(\\.\\d+)?$' } as const;

const usageLineSchema = {
  type: 'object',
  required: ['startingSeconds', 'servingSeconds', 'idleSeconds', 'frozenSeconds', 'billableSeconds', 'vcpuSecondsAllocated', 'vcpuSecondsUsed', 'gibSecondsAllocated', 'gibSecondsUsed', 'requests', 'egressBytes'],
  properties: {
    period: { type: 'string', description: 'the hour or day (UTC) of a report by hour or day' },
    project: { type: 'string' },
    service: { type: 'string' },
    startingSeconds: dec,
    servingSeconds: dec,
    idleSeconds: dec,
    frozenSeconds: dec,
    billableSeconds: { ...dec, description: 'request-based: busy time rounded up to 100 ms a spell; instance-based: the whole lifetime' },
    vcpuSecondsAllocated: dec,
    vcpuSecondsUsed: { ...dec, description: 'CPU time from the instances\' cgroups' },
    gibSecondsAllocated: dec,
    gibSecondsUsed: { ...dec, description: 'working set (usage minus inactive file cache) over time' },
    requests: { type: 'integer' },
    egressBytes: { type: 'integer', description: 'response body bytes the gateway sent for the instances' },
  },
} as const;

const usageReportSchema = {
  type: 'object',
  required: ['project', 'since', 'until', 'by', 'lines', 'total'],
  properties: {
    project: { type: 'string', description: "the project reported, '*' for every project" },
    service: { type: 'string' },
    since: { type: 'string' },
    until: { type: 'string' },
    by: { type: 'string', enum: ['hour', 'day', 'service'] },
    lines: { type: 'array', items: usageLineSchema },
    total: usageLineSchema,
  },
} as const;

const invoiceSchema = {
  type: 'object',
  required: ['month', 'project', 'currency', 'lines', 'subtotal', 'total'],
  properties: {
    month: { type: 'string' },
    project: { type: 'string' },
    currency: { type: 'string' },
    lines: {
      type: 'array',
      items: {
        type: 'object',
        required: ['project', 'service', 'item', 'description', 'quantity', 'unit', 'unitPrice', 'amount'],
        properties: { project: { type: 'string' }, service: { type: 'string' }, item: { type: 'string' }, description: { type: 'string' }, quantity: dec, unit: { type: 'string' }, unitPrice: dec, amount: dec },
      },
    },
    subtotal: { ...dec, description: 'the exact sum of the lines' },
    total: { ...dec, description: 'the subtotal rounded half-up to cents' },
  },
} as const;

const project = { type: 'string', minLength: 1, maxLength: 63 } as const;

/**
 * The project a usage request reads: a project's token, its own (naming another: 404); a token
 * spanning every project, the one it names or (undefined) all of them.
 */
export function usageScope(req: FastifyRequest): string | undefined {
  const p = req.principal! as { tenant: string; allProjects?: boolean };
  const named = (req.query as { project?: string }).project;
  if (p.tenant === '*' || p.allProjects === true) return named === undefined || named === '*' ? undefined : named;
  if (named !== undefined && named !== p.tenant) throw new SkiffError('NOT_FOUND', `no project ${JSON.stringify(named)}`);
  return p.tenant;
}

export function registerUsageRoutes(api: FastifyInstance, usage: UsagePort): void {
  api.get('/usage', {
    config: needs('usage:read'),
    schema: {
      summary: 'Metered usage of the caller\'s project (or, with a token spanning every project, of all or one of them), by hour, day or service',
      tags: ['usage'],
      querystring: {
        type: 'object',
        additionalProperties: false,
        properties: {
          project,
          service: { type: 'string', pattern: SERVICE_NAME_RE.source },
          since: { type: 'string', description: 'YYYY-MM-DD or an ISO time (default: the start of this month, UTC)' },
          until: { type: 'string', description: 'YYYY-MM-DD or an ISO time (default: now)' },
          by: { type: 'string', enum: ['hour', 'day', 'service'], default: 'day' },
        },
      },
      response: { 200: usageReportSchema, 400: error, 404: error },
    },
  }, async (req) => {
    const q = req.query as { service?: string; since?: string; until?: string; by?: string };
    const tenant = usageScope(req);
    return usage.report({ ...(tenant !== undefined ? { tenant } : {}), ...(q.service !== undefined ? { service: q.service } : {}), ...(q.since !== undefined ? { since: q.since } : {}), ...(q.until !== undefined ? { until: q.until } : {}), ...(q.by !== undefined ? { by: q.by } : {}) });
  });

  api.get('/bill', {
    config: needs('usage:read'),
    schema: {
      summary: 'The invoice of a month: a line per service and item (vCPU-seconds, GiB-seconds, idle time, requests), quantities, unit prices and amounts in decimal, and the total',
      tags: ['usage'],
      querystring: { type: 'object', required: ['month'], additionalProperties: false, properties: { month: { type: 'string', pattern: '^\\d{4}-\\d{2}$' }, project } },
      response: { 200: invoiceSchema, 400: error, 404: error },
    },
  }, async (req) => usage.invoice((req.query as { month: string }).month, usageScope(req)));
}
