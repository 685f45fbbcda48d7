// cli/push/plan: what `skiff push` will send — blobs (layers, configs) and manifests in push order —
// and the helpers every input format's planner (oci-layout.ts, docker-archive.ts) builds it with.
// planner.ts picks the format.
import { createHash } from 'node:crypto';
import { SkiffError } from '../../core/errors.ts';
import type { ImageSource, SourceFile } from './source.ts';

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
