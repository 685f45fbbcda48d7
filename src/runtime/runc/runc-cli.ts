// runtime/runc/runc-cli: typed calls to the runc binary for one state root. `runc state` output is
// parsed as validated data: anything unexpected is an error, never a guessed status.
import { SkiffError } from '../../core/errors.ts';
import { execOk, execTool } from '../exec.ts';

export type RuncStatus = 'creating' | 'created' | 'running' | 'paused' | 'stopped';
export interface RuncState { id: string; pid: number; status: RuncStatus }

const STATUSES: readonly string[] = ['creating', 'created', 'running', 'paused', 'stopped'];

export function parseRuncState(text: string): RuncState {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (cause) {
    throw new SkiffError('INTERNAL', 'runc state printed invalid JSON', { cause });
  }
  const o = v as Record<string, unknown>;
  if (typeof o !== 'object' || o === null || typeof o.id !== 'string' || typeof o.pid !== 'number' || typeof o.status !== 'string' || !STATUSES.includes(o.status)) {
    throw new SkiffError('INTERNAL', `unexpected runc state output: ${text.slice(0, 200)}`);
  }
  return { id: o.id, pid: o.pid, status: o.status as RuncStatus };
}

const isMissing = (stderr: string): boolean => /does not exist|not exist|container not found/i.test(stderr);

export class RuncCli {
  constructor(private readonly bin: string, private readonly root: string) {}

  private args(...rest: string[]): string[] {
    return ['--root', this.root, ...rest];
  }

  /** undefined when runc does not know the container (never started, or deleted). */
  async state(id: string): Promise<RuncState | undefined> {
    const r = await execTool(this.bin, this.args('state', id));
    if (r.code !== 0) {
      if (isMissing(r.stderr)) return undefined;
      throw new SkiffError('INTERNAL', `runc state ${id}: ${r.stderr.trim()}`);
    }
    return parseRuncState(r.stdout);
  }

  /** Signals every process of the container; false when it is not running (nothing to signal). */
  async kill(id: string, signal: string): Promise<boolean> {
    const r = await execTool(this.bin, this.args('kill', '--all', id, signal));
    if (r.code === 0) return true;
    if (isMissing(r.stderr) || /not running|container .* stopped|process already finished/i.test(r.stderr)) return false;
    throw new SkiffError('INTERNAL', `runc kill ${id} ${signal}: ${r.stderr.trim()}`);
  }

  async delete(id: string): Promise<void> {
    const r = await execTool(this.bin, this.args('delete', '--force', id));
    if (r.code !== 0 && !isMissing(r.stderr)) throw new SkiffError('INTERNAL', `runc delete ${id}: ${r.stderr.trim()}`);
  }

  async pause(id: string): Promise<void> {
    await execOk(this.bin, this.args('pause', id));
  }

  async resume(id: string): Promise<void> {
    await execOk(this.bin, this.args('resume', id));
  }
}
