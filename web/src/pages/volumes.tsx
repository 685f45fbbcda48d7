// web/pages/volumes: the Volumes page (docs/dashboard.md).
import type { PageProps } from '../page.ts';

export function VolumesPage(props: PageProps & { _?: never }) {
  void props;
  return (
    <section aria-labelledby="page-title">
      <h1 id="page-title">Volumes</h1>
      <p class="muted">This page is not built yet.</p>
    </section>
  );
}
