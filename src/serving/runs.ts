// serving/runs: one-off containers for `skiff run` (like `docker run --rm`). A run is an instance like
// a revision's — same image resolution and instance driver — with an id of its own (`run-<12 hex>`,
// its own network isolation group, so it reaches no service's instances), no port, and a life bound
// to the API request that started it: its output is followed live, and it is deleted before the exit
// is reported, or as soon as the client goes away. A daemon that dies mid-run leaves it to the
// scheduler's orphan sweep at the next start.
import type { Logger } from '../core/logger.ts';
import type { RunRequest } from '../core/documents.ts';
import type { ExitReason, InstanceLimits } from '../core/instance.ts';
import type { OptionalCapability } from '../core/capabilities.ts';
import type { RunEvent, RunExit } from '../core/views.ts';
import { runId } from '../core/names.ts';
import { parseCpu, parseMemory } from '../core/quantity.ts';
import { SkiffError } from '../core/errors.ts';
import type { ImagePort, RunDriverPort } from './ports.ts';
import { DEFAULT_LIMITS } from './spec.ts';
import type { RunSpares } from './run-spares.ts';

/** A run request with every default filled in. */
export interface RunSpec {
  image: string;
  /** replaces the image's CMD (its ENTRYPOINT stays), as `docker run IMAGE CMD...` */
  command?: string[];
  env: Record<string, string>;
  limits: InstanceLimits;
  readOnlyRoot: boolean;
  capabilities?: OptionalCapability[];
}

export function normaliseRunRequest(r: RunRequest): RunSpec {
  return {
    image: r.image,
    ...(r.command?.length ? { command: r.command } : {}),
    env: r.env ?? {},
    limits: {
      memoryBytes: r.memory !== undefined ? parseMemory(r.memory, 'memory') : DEFAULT_LIMITS.memoryBytes,
      cpus: r.cpus !== undefined ? parseCpu(r.cpus, 'cpus') : DEFAULT_LIMITS.cpus,
      pids: r.pids ?? DEFAULT_LIMITS.pids,
      ...(r.disk !== undefined ? { diskBytes: parseMemory(r.disk, 'disk') } : {}),
    },
    readOnlyRoot: r.readOnly ?? false,
    ...(r.capAdd?.length ? { capabilities: r.capAdd } : {}),
  };
}

export interface RunServiceDeps {
  driver: RunDriverPort;
  images: Pick<ImagePort, 'resolve'>;
  log: Logger;
  /** created containers of recent requests, taken by the same request again (none: always create) */
  spares?: RunSpares;
}

export class RunService {
  constructor(private readonly d: RunServiceDeps) {}

  /** Resolves the image and starts the container (image errors are thrown here, before any output);
   *  `tenant`: the project running it, which runs only its own repositories' images. `events` follows
   *  its output live and ends with its exit, after the container was deleted; when `signal` aborts
   *  (the client went away) the container is killed and deleted. */
  async start(request: RunRequest, tenant: string, signal: AbortSignal): Promise<{ id: string; events: AsyncIterable<RunEvent> }> {
    const spec = normaliseRunRequest(request);
    const image = await this.d.images.resolve(spec.image, tenant);
    // the container is named by what it was created from: the digest, not the tag, which may move
    const key = JSON.stringify([image.repository, image.digest, spec.command ?? null, spec.env, spec.limits, spec.readOnlyRoot, spec.capabilities ?? []]);
    const create = (id: string) => this.d.driver.create(id, { image, service: id, args: spec.command, env: spec.env, readOnlyRoot: spec.readOnlyRoot, limits: spec.limits, capabilities: spec.capabilities });
    let id = await this.d.spares?.take(key);
    const spare = id !== undefined;
    if (id === undefined) {
      id = runId();
      await create(id);
    }
    await this.d.driver.start(id); // (a failed start deletes the instance)
    this.d.log.info({ run: id, image, spare }, 'run started');
    // the next identical run finds a created container (made while this one runs)
    this.d.spares?.replenish(key, create);
    let removal: Promise<void> | undefined;
    const remove = () => (removal ??= this.d.driver.delete(id).catch((err: unknown) => this.d.log.warn({ run: id, err }, 'removing a run failed')));
    // Not only from the event stream: a client gone before the stream is first read never runs its body.
    if (signal.aborted) void remove();
    else signal.addEventListener('abort', () => void remove(), { once: true });
    return { id, events: this.events(id, spec, signal, remove) };
  }

  private async *events(id: string, spec: RunSpec, signal: AbortSignal, remove: () => Promise<void>): AsyncGenerator<RunEvent> {
    try {
      for await (const l of this.d.driver.followLogs(id, signal)) yield { stream: l.stream, data: l.line + '\n' };
      if (signal.aborted) return;
      const exit = await this.d.driver.watch(id);
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
  const limits = exit.pidsLimitHits ? { pidsLimit: spec.limits.pids } : {};
  return exit.reason === 'oom-killed' ? { ...exit, memoryLimitBytes: spec.limits.memoryBytes, ...limits } : { ...exit, ...limits };
}
