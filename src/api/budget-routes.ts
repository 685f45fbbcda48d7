// api/budget-routes: /api/v1/budgets — projects' monthly budgets (`skiff budget`). Setting and
// removing one is the operator's (projects:manage: a token spanning every project), as quotas are;
// a project's own tokens (deploy and up) read their project's budget, spend and forecast, and another
// project's is not there for them (404). The semantics live behind the BudgetsPort
// (metering/budget-service.ts).
import type { FastifyInstance } from 'fastify';
import { BUDGET_ACTIONS } from '../core/budgets.ts';
import { PROJECT_NAME_RE } from '../core/projects.ts';
import type { BudgetsPort } from './ports.ts';
import { errorRef as error } from './errors.ts';
import { needs, owned, visibleTo } from './auth.ts';

const dec = { type: 'string', pattern: '^\\d+(\\.\\d+)?$' } as const;
const nameParam = { type: 'object', required: ['name'], properties: { name: { type: 'string', pattern: PROJECT_NAME_RE.source } } } as const;

export const budgetStatusSchema = {
  type: 'object',
  required: ['project', 'month', 'currency', 'monthly', 'soft', 'action', 'spent', 'ratePerHour', 'forecast', 'state', 'enforced'],
  properties: {
    project: { type: 'string' },
    month: { type: 'string', description: 'YYYY-MM (UTC)' },
    currency: { type: 'string' },
    monthly: { ...dec, description: 'the monthly budget' },
    soft: { type: 'array', items: dec, description: 'soft thresholds, percent of the budget' },
    action: { type: 'string', enum: BUDGET_ACTIONS },
    webhook: { type: 'string' },
    spent: { ...dec, description: 'spent so far this month (cents)' },
    ratePerHour: { ...dec, description: 'the current rate of spend per hour (the last 15 minutes)' },
    forecast: { ...dec, description: 'spent + the current rate to the end of the month (cents)' },
    state: { type: 'string', enum: ['ok', 'soft', 'exhausted'] },
    enforced: { type: 'string', enum: ['none', 'cap', 'stop'] },
    cappedAt: { type: 'integer', description: 'with enforced cap: the most instances the project may hold' },
  },
} as const;

export function registerBudgetRoutes(api: FastifyInstance, budgets: BudgetsPort): void {
  api.get('/budgets', {
    config: needs('projects:read'),
    schema: { summary: 'The budgets of the caller\'s project (the operator: every project), with spend, rate, forecast and state', tags: ['budgets'], response: { 200: { type: 'object', required: ['budgets'], properties: { budgets: { type: 'array', items: budgetStatusSchema } } } } },
  }, async (req) => ({ budgets: await budgets.list((project) => visibleTo(req.principal!, project)) }));

  api.get('/budgets/:name', {
    config: owned('projects:read', 'project'),
    schema: { summary: 'A project\'s budget, spend so far this month, current rate, forecast to month end and state', tags: ['budgets'], params: nameParam, response: { 200: budgetStatusSchema, 404: error } },
  }, async (req) => budgets.get((req.params as { name: string }).name));

  api.put('/budgets/:name', {
    config: owned('projects:manage', 'project'),
    schema: {
      summary: 'Set a project\'s monthly budget (operator): soft thresholds tell (event, webhook); once spent, cap holds its instances where they are, stop scales it to zero and answers 402',
      tags: ['budgets'],
      params: nameParam,
      body: {
        type: 'object',
        required: ['monthly'],
        additionalProperties: false,
        properties: {
          monthly: { type: 'string', maxLength: 40, description: 'decimal text in the price sheet\'s currency, e.g. "50.00"' },
          soft: { type: 'array', maxItems: 10, items: { type: 'string', maxLength: 20 }, description: 'percent of the budget, e.g. ["80%"]' },
          action: { type: 'string', enum: BUDGET_ACTIONS, default: 'notify' },
          webhook: { type: 'string', maxLength: 2000, description: 'POSTed to (JSON) when a threshold is crossed' },
        },
      },
      response: { 200: budgetStatusSchema, 400: error, 404: error },
    },
  }, async (req) => budgets.set((req.params as { name: string }).name, req.body as { monthly: string; soft?: string[]; action?: string; webhook?: string }));

  api.delete('/budgets/:name', {
    config: owned('projects:manage', 'project'),
    schema: { summary: 'Remove a project\'s budget (operator); a cap or stop it enforced is lifted', tags: ['budgets'], params: nameParam, response: { 204: { type: 'null' }, 404: error } },
  }, async (req, reply) => {
    await budgets.remove((req.params as { name: string }).name);
    return reply.code(204).send();
  });
}
