// test/helpers/instance-probe: what test/security does from inside instances — run a command in a
// one-off instance (`skiff run`'s API) and collect its output, and deploy a service whose ready
// instance is the target, addressed by its bridge IP.
import type { SkiffClient } from '../../src/api/client.ts';
import type { RunRequest } from '../../src/core/documents.ts';
import { FAST, until } from './serving.ts';

/** Runs `req` to its end: the exit code (128 + signal when signalled) and everything it printed. */
export async function runIn(client: SkiffClient, req: RunRequest): Promise<{ code: number; out: string }> {
  let out = '';
  const exit = await client.run(req, (e) => (out += e.data));
  return { code: exit.reason === 'signalled' ? 128 + exit.signal : exit.exitCode, out };
}

/** Deploys `image` as `name` with one instance always up; that instance's id and bridge IP once ready. */
export async function readyInstance(client: SkiffClient, image: string, name = 'victim'): Promise<{ id: string; ip: string }> {
  await client.deploy({ name, image, scaling: { ...FAST, min: 1 } });
  let found: { id: string; ip: string } | undefined;
  await until(`${name} ready`, async () => {
    const inst = (await client.service(name)).revisions[0]?.instances.find((i) => i.phase === 'ready' && i.address);
    if (inst) found = { id: inst.id, ip: inst.address!.split(':')[0]! };
    return !!found;
  });
  return found!;
}
