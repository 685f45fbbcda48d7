// web/service-instances: the service's instances now — id, phase, revision, address, and the age, CPU
// and memory a daemon that measures them reports (a column shows only when some instance has it).
import { useEffect, useState } from 'preact/hooks';
import type { TabProps } from './pages/service.tsx';
import { instanceRows } from './service-model.ts';

/** ages are redrawn this often (the view itself changes only when an instance does) */
const TICK_MS = 5000;

export function InstancesTab(props: TabProps) {
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), TICK_MS);
    return () => clearInterval(timer);
  }, []);
  const rows = instanceRows(props.service, now);
  if (rows.length === 0) return <p>No instance runs now. {props.service.scaling.min === 0 && 'The service scales to zero when idle; the next request starts one.'}</p>;
  const has = { node: rows.some((r) => r.node), age: rows.some((r) => r.age), cpu: rows.some((r) => r.cpu), memory: rows.some((r) => r.memory) };
  return (
    <table class="services instances">
      <caption class="visually-hidden">Instances</caption>
      <thead>
        <tr>
          <th scope="col">Instance</th><th scope="col">Phase</th><th scope="col">Revision</th><th scope="col">Address</th>
          {has.node && <th scope="col">Node</th>}{has.age && <th scope="col">Age</th>}{has.cpu && <th scope="col">CPU</th>}{has.memory && <th scope="col">Memory</th>}
        </tr>
      </thead>
      <tbody>
        {rows.map((r) => (
          <tr key={r.id}>
            <th scope="row" data-label="Instance"><code>{r.id}</code></th>
            <td data-label="Phase"><span class={`phase phase-${r.phase}`}>{r.phase}</span></td>
            <td data-label="Revision"><code>{r.revision}</code></td>
            <td data-label="Address">{r.address || <span class="muted">—</span>}</td>
            {has.node && <td data-label="Node">{r.node || <span class="muted">this machine</span>}</td>}
            {has.age && <td data-label="Age">{r.age || '—'}</td>}
            {has.cpu && <td data-label="CPU">{r.cpu || '—'}</td>}
            {has.memory && <td data-label="Memory">{r.memory || '—'}</td>}
          </tr>
        ))}
      </tbody>
    </table>
  );
}
