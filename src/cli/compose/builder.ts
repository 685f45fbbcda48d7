// cli/compose/builder: a local image builder for Compose `build:` — docker (when its daemon answers),
// podman or buildah, in that order — and the archive (`save`) that `skiff push`'s code then uploads to
// Skiff's registry, so no registry login or TLS setting of the builder is involved.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { SkiffError } from '../../core/errors.ts';
import type { PlannedBuild } from './plan.ts';

export type BuilderName = 'docker' | 'podman' | 'buildah';

function exec(cmd: string, args: string[], timeoutMs = 600_000): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], timeout: timeoutMs });
    let out = '';
    child.stdout.on('data', (b: Buffer) => (out = (out + b.toString()).slice(-20_000)));
    child.stderr.on('data', (b: Buffer) => (out = (out + b.toString()).slice(-20_000)));
    child.on('error', () => resolve({ code: -1, out: `${cmd} could not be started` }));
    child.on('close', (code) => resolve({ code, out }));
  });
}

/** The first builder that works here: docker only when its daemon answers. SKIFF_BUILDER picks one
 *  (`none`: no local builder, so `build:` is refused). */
export async function findBuilder(): Promise<BuilderName | undefined> {
  const wanted = process.env.SKIFF_BUILDER;
  if (wanted === 'none') return undefined;
  const order: BuilderName[] = wanted === 'docker' || wanted === 'podman' || wanted === 'buildah' ? [wanted] : ['docker', 'podman', 'buildah'];
  for (const b of order) {
    const probe = b === 'docker' ? await exec('docker', ['version', '--format', '{{.Server.Version}}'], 10_000) : await exec(b, ['--version'], 10_000);
    if (probe.code === 0) return b;
  }
  return undefined;
}

const lastLines = (text: string) => text.trim().split('\n').slice(-8).join('\n');

/** Builds the service's image with `builder` and writes it as a docker archive; the caller pushes it
 *  and calls dispose(). */
export async function buildArchive(builder: BuilderName, b: PlannedBuild): Promise<{ archive: string; dispose(): void }> {
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'skiff-compose-build-'));
  const dispose = () => rmSync(tmp, { recursive: true, force: true });
  try {
    const tag = `localhost/${b.image.includes(':') ? b.image : `${b.image}:latest`}`;
    const args = [builder === 'buildah' ? 'bud' : 'build', '-t', tag];
    if (b.dockerfileInline !== undefined) {
      writeFileSync(path.join(tmp, 'Dockerfile'), b.dockerfileInline);
      args.push('-f', path.join(tmp, 'Dockerfile'));
    } else if (b.dockerfile !== undefined) args.push('-f', path.isAbsolute(b.dockerfile) || /^[a-z]+:\/\//.test(b.context) ? b.dockerfile : path.join(b.context, b.dockerfile));
    if (b.target !== undefined) args.push('--target', b.target);
    for (const [k, v] of Object.entries(b.args)) args.push('--build-arg', `${k}=${v}`);
    args.push(b.context);
    const built = await exec(builder, args);
    if (built.code !== 0) throw new SkiffError('BUILD_FAILED', `services.${b.service}.build: ${builder} ${args.join(' ')} failed (exit ${built.code}):\n${lastLines(built.out)}`);
    const archive = path.join(tmp, 'image.tar');
    const saved = builder === 'buildah' ? await exec('buildah', ['push', tag, `docker-archive:${archive}:${tag}`]) : await exec(builder, ['save', '-o', archive, tag]);
    if (saved.code !== 0) throw new SkiffError('BUILD_FAILED', `services.${b.service}.build: saving ${tag} with ${builder} failed:\n${lastLines(saved.out)}`);
    return { archive, dispose };
  } catch (err) {
    dispose();
    throw err;
  }
}

/** The image `ref` from a local builder's store as a docker archive, when one of them has it. */
export async function localImageArchive(ref: string): Promise<{ archive: string; dispose(): void; builder: BuilderName } | undefined> {
  const builder = await findBuilder();
  if (!builder) return undefined;
  const exists = builder === 'docker' ? await exec('docker', ['image', 'inspect', ref], 30_000) : builder === 'podman' ? await exec('podman', ['image', 'exists', ref], 30_000) : await exec('buildah', ['inspect', '--type', 'image', ref], 30_000);
  if (exists.code !== 0) return undefined;
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'skiff-compose-image-'));
  const archive = path.join(tmp, 'image.tar');
  const saved = builder === 'buildah' ? await exec('buildah', ['push', ref, `docker-archive:${archive}`]) : await exec(builder, ['save', '-o', archive, ref]);
  const dispose = () => rmSync(tmp, { recursive: true, force: true });
  if (saved.code !== 0) {
    dispose();
    throw new SkiffError('BUILD_FAILED', `saving ${ref} from ${builder} failed:\n${lastLines(saved.out)}`);
  }
  return { archive, dispose, builder };
}
