// web/pages/jobs: the Jobs page (docs/dashboard.md).
import type { PageProps } from '../page.ts';

export function JobsPage(props: PageProps & { _?: never }) {
  void props;
  return (
    <section aria-labelledby="page-title">
      <h1 id="page-title">Jobs</h1>
      <p class="muted">This page is not built yet.</p>
    </section>
  );
}
