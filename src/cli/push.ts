// cli/push: `skiff push ./image.tar|./oci-layout REPO:TAG` uploads a docker archive, OCI layout
// directory or OCI layout tar to Skiff's registry (see push/plan.ts for the formats, push/uploader.ts
// for the protocol), with a progress bar per layer and a one-line summary.
import type { Command } from 'commander';
import { Option } from 'commander';
import { SkiffError } from '../core/errors.ts';
import { assertRepositoryName, isTag } from '../core/names.ts';
import { clientFrom } from './context.ts';
import { planPush } from './push/planner.ts';
import { DEFAULT_CHUNK_SIZE, pushImage } from './push/uploader.ts';
import { mb, pushProgress } from './push/progress.ts';

/** REPO[:TAG] → repository and tag (default `latest`); the tag is after the last ':' past the last '/'. */
export function parseTarget(target: string): { repo: string; tag: string } {
  const colon = target.lastIndexOf(':');
  const hasTag = colon > target.lastIndexOf('/');
  const repo = hasTag ? target.slice(0, colon) : target;
  const tag = hasTag ? target.slice(colon + 1) : 'latest';
  assertRepositoryName(repo);
  if (!isTag(tag)) throw new SkiffError('TAG_INVALID', `invalid tag ${JSON.stringify(tag.slice(0, 200))}`);
  return { repo, tag };
}

export function registerPush(program: Command): void {
  program
    .command('push <input> <target>')
    .description('push a docker archive (docker/podman save, skopeo docker-archive:), OCI layout directory or OCI layout tar as REPO:TAG')
    .option('--ref <name>', 'image to push when the input holds several (OCI ref name annotation, or a docker archive RepoTag)')
    .addOption(new Option('--chunk-size <bytes>', 'upload blobs larger than this in PATCH chunks of this size').default(DEFAULT_CHUNK_SIZE).argParser(positiveInt))
    .action(async (input: string, target: string, opts: { ref?: string; chunkSize: number }) => {
      const { repo, tag } = parseTarget(target);
      const client = clientFrom(program);
      const started = performance.now();
      const plan = await planPush(input, opts.ref);
      const progress = pushProgress(process.stdout);
      const result = await pushImage(client, repo, tag, plan, { chunkSize: opts.chunkSize, events: progress.events }).finally(async () => {
        progress.stop();
        await plan.dispose?.();
      });
      const seconds = ((performance.now() - started) / 1000).toFixed(1);
      process.stdout.write(
        `pushed ${repo}:${tag} digest ${result.digest} (${result.layers} layers, ${result.skipped} skipped, ${mb(result.bytesUploaded)} in ${seconds} s)\n`,
      );
    });
}

function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < 1) throw new SkiffError('BAD_REQUEST', `--chunk-size must be a positive integer, got ${value}`);
  return n;
}
