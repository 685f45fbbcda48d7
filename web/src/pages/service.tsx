// web/pages/service: the A service page (docs/dashboard.md).
import type { PageProps } from '../page.ts';

export function ServicePage(props: PageProps & { _?: never; name: string; tab?: string | undefined }) {
  void props;
  return (
    <section aria-labelledby="page-title">
      <h1 id="page-title">A service</h1>
      <p class="muted">This page is not built yet.</p>
    </section>
  );
}
