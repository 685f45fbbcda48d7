// web/pages/usage: the Usage and billing page (docs/dashboard.md).
import type { PageProps } from '../page.ts';

export function UsagePage(props: PageProps & { _?: never }) {
  void props;
  return (
    <section aria-labelledby="page-title">
      <h1 id="page-title">Usage and billing</h1>
      <p class="muted">This page is not built yet.</p>
    </section>
  );
}
