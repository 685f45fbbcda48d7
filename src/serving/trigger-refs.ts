// serving/trigger-refs: the rule that a service or job a trigger points at is not removed under it —
// the trigger would go on firing into nothing (a broker's messages would all end as dead letters). The
// user removes the trigger first; the error names every one.
import { SkiffError } from '../core/errors.ts';
import type { TriggerRefsPort } from './ports.ts';

export async function assertNoTriggers(port: TriggerRefsPort | undefined, target: { service: string } | { job: string }): Promise<void> {
  const names = (await port?.triggersOf(target)) ?? [];
  if (!names.length) return;
  const many = names.length > 1;
  const [what, verb] = 'service' in target ? [`service ${target.service}`, many ? 'deliver to' : 'delivers to'] : [`job ${target.job}`, many ? 'start' : 'starts'];
  throw new SkiffError('CONFLICT', `${what}: trigger${many ? 's' : ''} ${names.join(', ')} ${verb} it: remove ${many ? 'them' : 'it'} first (skiff trigger rm ${names[0]})`);
}
