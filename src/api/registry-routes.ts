// api/registry-routes: /api/v1/registry — registry maintenance (garbage collection on demand, admin).
import type { FastifyInstance } from 'fastify';
import type { GcPort } from './ports.ts';
import { needs } from './auth.ts';
import { errorRef as error } from './errors.ts';

const gcResultSchema = {
  type: 'object',
  properties: { blobsDeleted: { type: 'integer' }, bytesFreed: { type: 'integer' }, orphanFilesDeleted: { type: 'integer' }, uploadsExpired: { type: 'integer' }, graceSeconds: { type: 'integer', description: 'blobs used within this window were kept (registry.gcGraceSeconds)' } },
} as const;

export function registerRegistryRoutes(api: FastifyInstance, gc: GcPort): void {
  api.post('/registry/gc', { config: needs('registry:gc'), schema: { summary: 'Run registry garbage collection now (admin)', response: { 200: gcResultSchema, 403: error } } }, async () => gc.collect());
}
