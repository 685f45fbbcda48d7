// web/pages/registry: the Registry page (docs/dashboard.md).
import type { PageProps } from '../page.ts';

export function RegistryPage(props: PageProps & { _?: never; repository?: string | undefined }) {
  void props;
  return (
    <section aria-labelledby="page-title">
      <h1 id="page-title">Registry</h1>
      <p class="muted">This page is not built yet.</p>
    </section>
  );
}
