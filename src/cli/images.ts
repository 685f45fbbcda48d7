// cli/images: `skiff images [REPO]` lists the registry's images — repository, tag, digest, size — and
// `skiff image rm REPO:TAG|REPO@DIGEST` removes one: a tag (the manifest stays while other tags or
// digests point at it), or a manifest with every tag on it. Blobs go at the next `skiff gc`, after
// its grace window. Speaks the registry's own API (/v2/_catalog, tags/list, manifests), as docker
// and skopeo do, with the CLI's token.
import type { Command } from 'commander';
import { clientFrom } from './context.ts';
import { print, withOutput, type OutputFlags } from './output.ts';
import { expectStatus, send } from './push/registry-http.ts';
import { SkiffError } from '../core/errors.ts';
import { ACCEPT_MANIFESTS, INDEX_MEDIA_TYPES } from '../core/media-types.ts';
import { parseImageReference } from '../core/names.ts';
import type { SkiffClient } from '../api/client.ts';

export interface ImageRow {
  repository: string;
  tag: string;
  /** the manifest's digest, `sha256:…` */
  digest: string;
  /** config + layers (compressed, as stored); for an index, the sum over its platforms' manifests as far as they are here */
  sizeBytes: number;
  /** image, or index (a multi-platform image) */
  kind: 'image' | 'index';
}

interface Descriptor { digest: string; size: number }
interface ManifestDoc { mediaType?: string; config?: Descriptor; layers?: Descriptor[]; manifests?: Descriptor[] }

async function manifest(client: SkiffClient, repo: string, reference: string): Promise<{ digest: string; doc: ManifestDoc }> {
  const res = expectStatus(await send(client, 'GET', `/v2/${repo}/manifests/${reference}`, { accept: ACCEPT_MANIFESTS }), 200);
  return { digest: String(res.headers['docker-content-digest'] ?? ''), doc: JSON.parse(res.text) as ManifestDoc };
}

async function sizeOf(client: SkiffClient, repo: string, doc: ManifestDoc): Promise<number> {
  if (doc.manifests) {
    let total = 0;
    for (const m of doc.manifests) total += await manifest(client, repo, m.digest).then((c) => sizeOf(client, repo, c.doc), () => 0);
    return total;
  }
  return (doc.config?.size ?? 0) + (doc.layers ?? []).reduce((a, l) => a + l.size, 0);
}

async function listImages(client: SkiffClient, only?: string): Promise<ImageRow[]> {
  const repos = only ? [only] : (JSON.parse(expectStatus(await send(client, 'GET', '/v2/_catalog?n=10000'), 200).text) as { repositories: string[] }).repositories;
  const rows: ImageRow[] = [];
  for (const repo of repos) {
    const tags = (JSON.parse(expectStatus(await send(client, 'GET', `/v2/${repo}/tags/list?n=10000`), 200).text) as { tags: string[] | null }).tags ?? [];
    for (const tag of tags) {
      const m = await manifest(client, repo, tag);
      const kind = m.doc.manifests || INDEX_MEDIA_TYPES.has(m.doc.mediaType ?? '') ? 'index' : 'image';
      rows.push({ repository: repo, tag, digest: m.digest, sizeBytes: await sizeOf(client, repo, m.doc), kind });
    }
  }
  return rows;
}

function human(bytes: number): string {
  const units = ['B', 'kB', 'MB', 'GB', 'TB'];
  let n = bytes;
  let u = 0;
  while (n >= 1000 && u < units.length - 1) (n /= 1000), u++;
  return `${u === 0 ? n : n.toFixed(1)} ${units[u]}`;
}

export function registerImages(program: Command): void {
  withOutput(program.command('images [repository]').description('images in Skiff’s registry: repository, tag, digest (shortened), size (compressed, as stored)')).action(
    async (repository: string | undefined, o: OutputFlags) => {
      const rows = await listImages(clientFrom(program), repository);
      await print(o, { images: rows }, () => {
        const table = [['REPOSITORY', 'TAG', 'DIGEST', 'SIZE'], ...rows.map((r) => [r.repository, r.tag, r.digest.slice(0, 19), `${human(r.sizeBytes)}${r.kind === 'index' ? ' (index)' : ''}`])];
        const widths = table[0]!.map((_, c) => Math.max(...table.map((row) => row[c]!.length)));
        return table.map((row) => row.map((cell, c) => cell.padEnd(widths[c]!)).join('  ').trimEnd()).join('\n');
      });
    },
  );

  const image = program.command('image').description('one image in Skiff’s registry');
  image
    .command('rm <reference>')
    .description('REPO:TAG removes the tag; REPO@sha256:… removes the manifest and every tag on it (blobs go at the next skiff gc)')
    .action(async (reference: string) => {
      const ref = parseImageReference(reference);
      if (!ref.tag && !ref.digest) throw new SkiffError('USAGE', `image rm: name a tag or a digest (${ref.repository}:TAG or ${ref.repository}@sha256:…), not only a repository`);
      const client = clientFrom(program);
      expectStatus(await send(client, 'DELETE', `/v2/${ref.repository}/manifests/${ref.digest ?? ref.tag}`), 202);
      process.stdout.write(ref.digest ? `deleted ${ref.repository}@${ref.digest} and its tags\n` : `untagged ${ref.repository}:${ref.tag}\n`);
    });
}
