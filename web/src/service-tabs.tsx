// web/service-tabs: the service page's tab strip — the WAI-ARIA tabs pattern over links: each tab is
// the address of its route (#/services/NAME/TAB: a reload, a shared link or Back open that tab), one
// tab stop for the strip, arrow keys / Home / End move between tabs and open them.
import type { ComponentChildren } from 'preact';
import { useRef } from 'preact/hooks';
import { href } from './router.ts';
import { TABS, type TabId } from './service-model.ts';

export function ServiceTabs(props: { name: string; current: TabId; children: ComponentChildren }) {
  const strip = useRef<HTMLDivElement>(null);
  const open = (i: number) => {
    const [id] = TABS[(i + TABS.length) % TABS.length]!;
    location.hash = href({ page: 'service', name: props.name, tab: id });
    // focus follows the selection, as the pattern asks (the strip re-renders on hashchange)
    requestAnimationFrame(() => strip.current?.querySelector<HTMLElement>(`#tab-${id}`)?.focus());
  };
  const onKey = (e: KeyboardEvent) => {
    const i = TABS.findIndex(([id]) => id === props.current);
    const to = e.key === 'ArrowRight' ? i + 1 : e.key === 'ArrowLeft' ? i - 1 : e.key === 'Home' ? 0 : e.key === 'End' ? TABS.length - 1 : undefined;
    if (to === undefined) return;
    e.preventDefault();
    open(to);
  };
  return (
    <>
      <div class="tabs" role="tablist" aria-label="Service details" ref={strip} onKeyDown={onKey}>
        {TABS.map(([id, label]) => (
          <a id={`tab-${id}`} role="tab" href={href({ page: 'service', name: props.name, tab: id })} aria-selected={id === props.current ? 'true' : 'false'}
            aria-controls="tab-panel" tabIndex={id === props.current ? 0 : -1}>{label}</a>
        ))}
      </div>
      <div id="tab-panel" role="tabpanel" aria-labelledby={`tab-${props.current}`} tabIndex={0} class="tab-panel">
        {props.children}
      </div>
    </>
  );
}
