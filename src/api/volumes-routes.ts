// api/volumes-routes: /api/v1/volumes — persistent volumes of the caller's tenant: create, list,
// describe, delete (409 while a service names it), export (a tar stream of its files) and import (a
// tar unpacked into it). Another tenant's volume is NOT_FOUND. The semantics live behind the
// VolumesPort (serving/volumes.ts).
import type { FastifyInstance } from 'fastify';
import type { Readable } from 'node:stream';
import { VOLUME_NAME_RE, volumeCreateSchema, type VolumeCreateBody } from '../core/volumes.ts';
import type { VolumesPort } from './ports.ts';
import { errorRef as error } from './errors.ts';
import { needs, owned } from './auth.ts';

const nameParam = { type: 'object', required: ['name'], properties: { name: { type: 'string', pattern: VOLUME_NAME_RE.source } } } as const;

export const volumeViewSchema = {
  type: 'object',
  required: ['name', 'sizeBytes', 'shared', 'createdAt', 'usedBy'],
  properties: {
    name: { type: 'string' },
    sizeBytes: { type: 'integer' },
    shared: { type: 'boolean' },
    createdAt: { type: 'string' },
    usedBy: { type: 'array', items: { type: 'string' }, description: 'services any revision of which mounts the volume' },
    usedBytes: { type: 'integer', description: 'what its filesystem holds now' },
    mounted: { type: 'boolean', description: 'whether it is mounted on the node now' },
  },
} as const;

const TAR = 'application/x-tar';

export function registerVolumeRoutes(api: FastifyInstance, volumes: VolumesPort): void {
  // an import's body is streamed to the volume as it arrives, never buffered (the volume's size bounds it)
  api.addContentTypeParser(TAR, (_req, payload, done) => done(null, payload));

  api.post('/volumes', {
    config: needs('volumes:write'),
    schema: { summary: 'Create a volume: a filesystem of a fixed size (the kernel enforces it) that services mount', tags: ['volumes'], body: volumeCreateSchema, response: { 201: volumeViewSchema, 400: error, 409: error } },
  }, async (req, reply) => reply.code(201).send(await volumes.create(req.principal!.tenant, req.body as VolumeCreateBody)));

  api.get('/volumes', {
    config: needs('volumes:read'),
    schema: { summary: 'List the tenant’s volumes', tags: ['volumes'], response: { 200: { type: 'object', required: ['volumes'], properties: { volumes: { type: 'array', items: volumeViewSchema } } } } },
  }, async (req) => ({ volumes: await volumes.list(req.principal!.tenant) }));

  api.get('/volumes/:name', {
    config: owned('volumes:read', 'self'),
    schema: { summary: 'Describe a volume: size, usage, the services that mount it', tags: ['volumes'], params: nameParam, response: { 200: volumeViewSchema, 404: error } },
  }, async (req) => volumes.get(req.principal!.tenant, (req.params as { name: string }).name));

  api.delete('/volumes/:name', {
    config: owned('volumes:write', 'self'),
    schema: { summary: 'Delete a volume and its data (409 while any revision of any service mounts it)', tags: ['volumes'], params: nameParam, response: { 204: { type: 'null' }, 404: error, 409: error } },
  }, async (req, reply) => {
    await volumes.remove(req.principal!.tenant, (req.params as { name: string }).name);
    return reply.code(204).send();
  });

  api.get('/volumes/:name/export', {
    config: owned('volumes:read', 'self'),
    schema: {
      summary: 'Export a volume: its files as a tar stream (application/x-tar), as they are while it is read',
      tags: ['volumes'],
      params: nameParam,
      response: { 200: { description: 'a tar archive of the volume’s files', content: { [TAR]: { schema: { type: 'string', format: 'binary' } } } }, 404: error },
    },
  }, async (req, reply) => {
    const tar = await volumes.export(req.principal!.tenant, (req.params as { name: string }).name);
    return reply.header('content-type', TAR).send(tar);
  });

  api.post('/volumes/:name/import', {
    config: owned('volumes:write', 'self'),
    schema: {
      summary: 'Import a tar (application/x-tar) into a volume: files replaced, directories merged; hostile entries (.., absolute, through a symlink) refused; VOLUME_FULL when it does not fit',
      tags: ['volumes'],
      params: nameParam,
      consumes: [TAR],
      response: {
        200: { type: 'object', required: ['volume', 'entries', 'dropped'], properties: { volume: { type: 'string' }, entries: { type: 'integer' }, dropped: { type: 'array', items: { type: 'string' }, description: 'entries not materialised: device nodes, fifos' } } },
        400: error,
        404: error,
        415: error,
        507: error,
      },
    },
  }, async (req) => volumes.import(req.principal!.tenant, (req.params as { name: string }).name, req.body as Readable));
}
