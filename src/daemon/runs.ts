// daemon/runs: the API's RunPort — one-off containers for `skiff run`. A run is an instance like a
// revision's (same image resolution, layer cache, overlay rootfs and runtime, through RuncInstances.launch)
// with an id of its own (`run-<12 hex>`), no port, and a life bound to the API request that started it:
// its output is followed live, and it is removed before the exit is reported, or as soon as the client
// goes away. A daemon that dies mid-run leaves it to the scheduler's orphan sweep at the next start.
import { randomBytes } from 'node:crypto';
import type { Logger } from '../core/logger.ts';
import type { RunEvent, RunExit, RunPort, RunSpec } from '../api/ports.ts';
import type { ExitReason, LogLine } from '../runtime/runtime.ts';
import type { LaunchSpec } from './instances.ts';
import { SkiffError } from '../core/errors.ts';

/** What a run needs of the instance driver (RuncInstances, or LazyInstances in front of it). */
export interface RunInstances {
  launch(id: string, pinned: string, spec: LaunchSpec): Promise<string>;
  follow(id: string, signal: AbortSignal): AsyncIterable<LogLine>;
  exit(id: string): Promise<ExitReason | undefined>;
  stop(id: string, graceMs: number): Promise<void>;
}

export interface RunServiceDeps {
  instances: RunInstances;
  /** resolves a user's image reference to `repo@sha256:…` in Skiff's registry */
  resolveImage(ref: string): Promise<string>;
  log: Logger;
}

export class RunService implements RunPort {
  constructor(private readonly d: RunServiceDeps) {}

  async start(spec: RunSpec, signal: AbortSignal): Promise<{ id: string; events: AsyncIterable<RunEvent> }> {
    const pinned = await this.d.resolveImage(spec.image);
    const id = `run-${randomBytes(6).toString('hex')}`;
    await this.d.instances.launch(id, pinned, {
      service: id, // its own network isolation group: a run reaches no service's instances
      revision: id,
      args: spec.command,
      env: spec.env,
      readOnlyRoot: spec.readOnlyRoot,
      limits: { memoryBytes: spec.memoryBytes, cpus: spec.cpus, pids: spec.pids },
    });
    this.d.log.info({ run: id, image: pinned }, 'run started');
    let removal: Promise<void> | undefined;
    const remove = () =>
      (removal ??= this.d.instances.stop(id, 0).catch((err: unknown) => this.d.log.warn({ run: id, err }, 'removing a run failed')));
    // Not only from the event stream: a client gone before the stream is first read never runs its body.
    if (signal.aborted) void remove();
    else signal.addEventListener('abort', () => void remove(), { once: true });
    return { id, events: this.events(id, spec, signal, remove) };
  }

  private async *events(id: string, spec: RunSpec, signal: AbortSignal, remove: () => Promise<void>): AsyncGenerator<RunEvent> {
    try {
      for await (const l of this.d.instances.follow(id, signal)) yield { stream: l.stream, data: l.line + '\n' };
      if (signal.aborted) return;
      const exit = await this.d.instances.exit(id);
      await remove();
      if (!exit) throw new SkiffError('INTERNAL', `run ${id} vanished before its exit was recorded`);
      this.d.log.info({ run: id, exit }, 'run ended');
      yield { exit: runExit(exit, spec) };
    } finally {
      await remove(); // the stream was abandoned or reading failed: the container must not outlive the request
    }
  }
}

function runExit(exit: ExitReason, spec: RunSpec): RunExit {
  const limits = exit.pidsLimitHits ? { pidsLimit: spec.pids } : {};
  return exit.reason === 'oom-killed' ? { ...exit, memoryLimitBytes: spec.memoryBytes, ...limits } : { ...exit, ...limits };
}
