// cli/push/plan: what `skiff push` will send — blobs (layers, configs) and manifests in push order —
// built from whichever input format was given. Detection order: an OCI layout (oci-layout +
// index.json; docker 25+ `docker save` also writes one) wins over a legacy docker archive
// (manifest.json), because its manifests are real, digest-stable documents.
import { createHash } from 'node:crypto';
import { SkiffError } from '../../core/errors.ts';
import { openSource, type ImageSource, type SourceFile } from './source.ts';
import { planOciLayout } from './oci-layout.ts';
import { planDockerArchive } from './docker-archive.ts';

export interface PlanBlob {
  digest: string;
  size: number;
  kind: 'layer' | 'config';
  file: SourceFile;
  /** Where the blob came from, for error messages. */
  label: string;
}

export interface PlanManifest {
  digest: string;
  mediaType: string;
  bytes: Buffer;
}

export interface PushPlan {
  blobs: PlanBlob[];
  /** Children first; the last one is the root, which gets the tag. */
  manifests: PlanManifest[];
  /** Removes temporary files the plan made (gzipped layers); call when the push is over. */
  dispose?: () => Promise<void>;
}

export async function planPush(input: string, ref: string | undefined): Promise<PushPlan> {
  const src = await openSource(input);
  if ((await src.find('oci-layout')) && (await src.find('index.json'))) return planOciLayout(src, ref);
  if (await src.find('manifest.json')) return planDockerArchive(src, ref);
  throw new SkiffError(
    'ARCHIVE_INVALID',
    `${input}: neither an OCI image layout (oci-layout, index.json) nor a docker archive (manifest.json)`,
  );
}

export function sha256(bytes: Buffer): string {
  return `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
}

/** Adds a blob unless the plan already has that digest (layers shared between platforms). */
export function addBlob(plan: PushPlan, blob: PlanBlob): void {
  if (!plan.blobs.some((b) => b.digest === blob.digest)) plan.blobs.push(blob);
}

export function archiveError(src: ImageSource, why: string): SkiffError {
  return new SkiffError('ARCHIVE_INVALID', `${src.label}: ${why}`);
}
