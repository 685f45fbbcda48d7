// cli/run: `skiff run [flags] IMAGE [CMD...]` — a one-off container from an image in Skiff's registry,
// like `docker run --rm`: its stdout/stderr stream to ours as they come, and we exit with its exit
// code (128+n when a signal ended it; 137 with a message when it was OOM-killed; a message when forks
// failed at its pids limit). Ctrl-C closes the
// request, which makes the daemon kill and remove the container.
import { Option, type Command } from 'commander';
import { parseCpu, parseMemory } from '../core/quantity.ts';
import { SkiffError } from '../core/errors.ts';
import type { RunExit } from '../core/views.ts';
import { clientFrom } from './context.ts';
import { capabilities, envPairs } from './services.ts';
import { collect } from './flags.ts';

interface RunFlags {
  memory?: string;
  cpus?: string;
  /** `skiff deploy`'s spelling, accepted here too */
  cpu?: string;
  pids?: string;
  disk?: string;
  capAdd: string[];
  env: string[];
  readOnly?: boolean;
}

const MIB = 1024 ** 2;

/** The exit status `skiff run` ends with, and what it says on stderr first. */
export function exitStatus(exit: RunExit, memoryFlag: string | undefined): { code: number; messages: string[] } {
  const messages = exit.pidsLimitHits ? [`skiff: container hit its pids limit (${exit.pidsLimit}): ${exit.pidsLimitHits} forks failed`] : [];
  switch (exit.reason) {
    case 'exited':
      return { code: exit.exitCode, messages };
    case 'signalled':
      return { code: 128 + exit.signal, messages };
    case 'oom-killed': {
      const limit = memoryFlag ?? (exit.memoryLimitBytes % MIB === 0 ? `${exit.memoryLimitBytes / MIB}Mi` : `${exit.memoryLimitBytes} bytes`);
      return { code: 137, messages: [`skiff: container was OOM-killed (memory limit ${limit})`, ...messages] };
    }
  }
}

export function registerRun(program: Command): void {
  program
    .command('run')
    .description('run a container from an image in Skiff’s registry (like docker run --rm): streams its output, exits with its exit code')
    .argument('<image>', 'repo[:tag] or repo@sha256:…')
    .argument('[command...]', 'replaces the image CMD (the ENTRYPOINT stays)')
    .option('--memory <size>', 'memory limit, e.g. 256Mi (default 256Mi)')
    .option('--cpus <cores>', 'CPU limit in cores, e.g. 0.5 (default 1; also --cpu, as skiff deploy spells it)')
    .addOption(new Option('--cpu <cores>').hideHelp())
    .option('--pids <n>', 'maximum processes + threads (default 512)')
    .option('--env <K=V>', 'environment variable (repeatable)', collect, [])
    .option('--read-only', 'mount the image root read-only (/tmp stays writable)')
    .option('--disk <size>', 'writable layer size, memory-backed, e.g. 512Mi (default: the runtime.writableLayerBytes setting, 512Mi)')
    .option('--cap-add <cap>', 'add a capability to the default set: NET_RAW (repeatable)', collect, [])
    // flags after IMAGE belong to the command: `skiff run img sh -c 'exit 3'`
    .passThroughOptions()
    .action(async (image: string, command: string[], f: RunFlags) => {
      if (f.cpu !== undefined && f.cpus !== undefined) throw new SkiffError('USAGE', '--cpu and --cpus are the same flag: give one');
      f = { ...f, cpus: f.cpus ?? f.cpu };
      const pids = f.pids === undefined ? undefined : Number(f.pids);
      if (pids !== undefined && !(Number.isInteger(pids) && pids > 0)) throw new SkiffError('BAD_REQUEST', `--pids: expected a positive integer, got ${JSON.stringify(f.pids)}`);
      const request = {
        image,
        ...(command.length ? { command } : {}),
        env: envPairs(f.env),
        ...(f.memory !== undefined ? { memory: parseMemory(f.memory, '--memory') } : {}),
        ...(f.cpus !== undefined ? { cpus: parseCpu(f.cpus, '--cpus') } : {}),
        ...(pids !== undefined ? { pids } : {}),
        ...(f.readOnly ? { readOnly: true } : {}),
        ...(f.disk !== undefined ? { disk: parseMemory(f.disk, '--disk') } : {}),
        ...(f.capAdd.length ? { capAdd: capabilities(f.capAdd) } : {}),
      };
      const abort = new AbortController();
      const onInt = () => interrupt(130);
      const onTerm = () => interrupt(143);
      const interrupt = (code: number) => {
        abort.abort();
        process.exit(code);
      };
      process.once('SIGINT', onInt).once('SIGTERM', onTerm);
      const exit = await clientFrom(program).run(request, (e) => (e.stream === 'stdout' ? process.stdout : process.stderr).write(e.data), abort.signal);
      process.off('SIGINT', onInt).off('SIGTERM', onTerm);
      const status = exitStatus(exit, f.memory);
      for (const m of status.messages) process.stderr.write(m + '\n');
      // at once: an idle keep-alive connection or the loader's teardown would add ~150 ms. Nothing is lost:
      // on Linux, writes to stdout/stderr pipes, files and terminals complete synchronously.
      process.exit(status.code);
    });
}
