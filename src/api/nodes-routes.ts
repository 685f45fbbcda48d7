// api/nodes-routes: GET /api/v1/nodes — the machines instances run on (`skiff nodes`): the runc
// driver's one machine, or a swarm's nodes with their capacity, what Skiff's instances there reserve,
// and how many. The operator's only (nodes:read): a project's token learns nothing about the cluster.
import type { FastifyInstance } from 'fastify';
import type { NodeInventory } from '../core/nodes.ts';
import { needs } from './auth.ts';
import { errorRef as error } from './errors.ts';

const num = { type: 'number' } as const;
const int = { type: 'integer' } as const;
const str = { type: 'string' } as const;

export const nodeSchema = {
  type: 'object',
  required: ['name', 'role', 'state', 'availability', 'labels', 'cpus', 'memoryBytes', 'reservedCpus', 'reservedMemoryBytes', 'instances'],
  properties: {
    name: { type: 'string', description: 'hostname' },
    role: { type: 'string', enum: ['manager', 'worker', 'local'], description: 'swarm role; local: the runc driver\'s one machine' },
    state: { type: 'string', description: 'ready, down, unknown or disconnected' },
    availability: { type: 'string', description: 'active, pause or drain: whether new instances are placed there' },
    address: str,
    labels: { type: 'object', additionalProperties: str, description: 'node labels (placement constraints match node.labels.KEY)' },
    cpus: num,
    memoryBytes: int,
    reservedCpus: { type: 'number', description: "what Skiff's running instances there reserve (their limits)" },
    reservedMemoryBytes: int,
    instances: { type: 'integer', description: "this daemon's instances there" },
  },
} as const;

export function registerNodeRoutes(api: FastifyInstance, nodes: NodeInventory): void {
  api.get('/nodes', {
    config: needs('nodes:read'),
    schema: {
      summary: 'The nodes instances run on, with capacity, reservations and instances (operator)',
      tags: ['daemon'],
      response: { 200: { type: 'object', required: ['nodes'], properties: { nodes: { type: 'array', items: nodeSchema } } }, 403: error },
    },
  }, async () => ({ nodes: await nodes.nodes() }));
}
