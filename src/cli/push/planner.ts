// cli/push/planner: builds the push plan from whichever input format was given. Detection order: an
// OCI layout (oci-layout + index.json; docker 25+ `docker save` also writes one) wins over a legacy
// docker archive (manifest.json), because its manifests are real, digest-stable documents.
import { SkiffError } from '../../core/errors.ts';
import { openSource } from './source.ts';
import type { PushPlan } from './plan.ts';
import { planOciLayout } from './oci-layout.ts';
import { planDockerArchive } from './docker-archive.ts';

export async function planPush(input: string, ref: string | undefined): Promise<PushPlan> {
  const src = await openSource(input);
  if ((await src.find('oci-layout')) && (await src.find('index.json'))) return planOciLayout(src, ref);
  if (await src.find('manifest.json')) return planDockerArchive(src, ref);
  throw new SkiffError(
    'ARCHIVE_INVALID',
    `${input}: neither an OCI image layout (oci-layout, index.json) nor a docker archive (manifest.json)`,
  );
}
