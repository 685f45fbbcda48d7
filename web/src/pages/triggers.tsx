// web/pages/triggers: the Triggers page (docs/dashboard.md).
import type { PageProps } from '../page.ts';

export function TriggersPage(props: PageProps & { _?: never }) {
  void props;
  return (
    <section aria-labelledby="page-title">
      <h1 id="page-title">Triggers</h1>
      <p class="muted">This page is not built yet.</p>
    </section>
  );
}
