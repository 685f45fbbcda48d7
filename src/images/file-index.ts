// images/file-index: which paths an image's merged filesystem has, read from its layers' tar headers
// without unpacking anything (whiteouts and opaque directories applied, base layer first). A driver
// that does not unpack images itself (the swarm driver: the nodes pull them) uses it to refuse a
// command the image lacks at create, as the runc driver does, instead of a task failing on a node.
import path from 'node:path';
import tar from 'tar-stream';
import type { BlobSource } from './ports.ts';
import { decompress } from './decompress.ts';
import { OPAQUE_MARKER, WHITEOUT_PREFIX, entryParts } from './entry-path.ts';

/** Every path ('/bin/sh' form) the image's filesystem has once its layers are applied in order. */
export async function imagePaths(blobs: BlobSource, layerDigests: readonly string[]): Promise<Set<string>> {
  const paths = new Set<string>();
  for (const digest of layerDigests) {
    const { stream } = await decompress(await blobs.open(digest));
    const extract = tar.extract();
    const added: string[] = [];
    const removed: string[] = [];
    const opaque: string[] = [];
    const done = new Promise<void>((resolve, reject) => {
      extract.on('entry', (header, body, next) => {
        body.on('end', next).resume();
        const parts = entryParts(header.name);
        if (parts.length === 0) return;
        const base = parts[parts.length - 1]!;
        const dir = '/' + parts.slice(0, -1).join('/');
        if (base === OPAQUE_MARKER) opaque.push(dir);
        else if (base.startsWith(WHITEOUT_PREFIX)) removed.push(path.posix.join(dir, base.slice(WHITEOUT_PREFIX.length)));
        else added.push('/' + parts.join('/'));
      });
      extract.on('finish', resolve).on('error', reject);
      stream.on('error', reject);
    });
    stream.pipe(extract);
    await done;
    // a layer's whiteouts hide what lower layers had; its own entries come on top
    const hidden = (p: string) => removed.some((r) => p === r || p.startsWith(r + '/')) || opaque.some((d) => p.startsWith(d === '/' ? '/' : d + '/'));
    for (const p of [...paths]) if (hidden(p)) paths.delete(p);
    for (const p of added) paths.add(p);
  }
  return paths;
}

/** The executable argv[0] names, as the kernel would find it: absolute (or relative to `cwd`) when it
 *  has a slash, else the first directory of PATH that has it; undefined when the image has none. */
export function findExecutable(paths: ReadonlySet<string>, argv0: string, env: readonly string[], cwd = '/'): string | undefined {
  if (argv0.includes('/')) {
    const p = path.posix.resolve(cwd, argv0);
    return paths.has(p) ? p : undefined;
  }
  const pathVar = [...env].reverse().find((e) => e.startsWith('PATH='))?.slice(5) ?? '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
  for (const dir of pathVar.split(':').filter(Boolean)) {
    const p = path.posix.join(dir.startsWith('/') ? dir : path.posix.resolve(cwd, dir), argv0);
    if (paths.has(p)) return p;
  }
  return undefined;
}
