// cli/jobs: `skiff job create | run | ls | describe | logs | rm` — run-to-completion jobs (docs/jobs.md).
// Every command goes through the API client; `job run --wait` polls the execution until it ends and
// exits 0 when it succeeded, 1 with JOB_FAILED and the cause (which task, how it ended) otherwise.
import type { Command } from 'commander';
import { clientFrom } from './context.ts';
import { print, withOutput, type OutputFlags } from './output.ts';
import { envPairs } from './services.ts';
import { collect, integer } from './flags.ts';
import { SkiffError } from '../core/errors.ts';
import { parseCpu, parseDuration, parseMemory } from '../core/quantity.ts';
import type { ExecutionView, JobDocument, JobView } from '../core/jobs.ts';

interface CreateFlags {
  image: string;
  tasks?: string;
  parallelism?: string;
  retries?: string;
  timeout?: string;
  env: string[];
  memory?: string;
  cpu?: string;
}

/** `job run --wait` asks how the execution is doing this often */
const POLL_MS = 500;

const line = (text: string) => process.stdout.write(text + '\n');

export function durationText(ms: number): string {
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)}s`;
  const s = Math.round(ms / 1000);
  if (s < 3600) return s % 60 ? `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s` : `${s / 60}m`;
  const m = Math.floor((s % 3600) / 60);
  return m ? `${Math.floor(s / 3600)}h${String(m).padStart(2, '0')}m` : `${Math.floor(s / 3600)}h`;
}

/** The job document from the flags; each flag checked here so an error names it. */
export function jobDocument(name: string, command: string[], f: CreateFlags): JobDocument {
  if (f.memory !== undefined) parseMemory(f.memory, '--memory');
  if (f.cpu !== undefined) parseCpu(f.cpu, '--cpu');
  if (f.timeout !== undefined) parseDuration(f.timeout, '--timeout');
  const resources = { ...(f.memory !== undefined ? { memory: f.memory } : {}), ...(f.cpu !== undefined ? { cpu: f.cpu } : {}) };
  const tasks = f.tasks !== undefined ? integer(f.tasks, '--tasks', 1) : undefined;
  const parallelism = f.parallelism !== undefined ? integer(f.parallelism, '--parallelism', 1) : undefined;
  if (tasks !== undefined && parallelism !== undefined && parallelism > tasks) throw new SkiffError('BAD_REQUEST', `--parallelism: ${parallelism} is more than --tasks (${tasks})`);
  return {
    name,
    image: f.image,
    ...(command.length ? { command } : {}),
    ...(f.env.length ? { env: envPairs(f.env) } : {}),
    ...(tasks !== undefined ? { tasks } : {}),
    ...(parallelism !== undefined ? { parallelism } : {}),
    ...(f.retries !== undefined ? { retries: integer(f.retries, '--retries', 0) } : {}),
    ...(f.timeout !== undefined ? { timeout: f.timeout } : {}),
    ...(Object.keys(resources).length ? { resources } : {}),
  };
}

function shapeText(j: JobView): string {
  return `${j.tasks} task${j.tasks === 1 ? '' : 's'}, ${j.parallelism} at once, ${j.retries} retr${j.retries === 1 ? 'y' : 'ies'} per task, timeout ${durationText(j.timeoutMs)} per attempt`;
}

function executionLine(e: ExecutionView): string {
  const done = `${e.counts.succeeded}/${e.tasks.length} tasks succeeded`;
  const took = e.durationMs !== undefined ? `, took ${durationText(e.durationMs)}` : '';
  return `${e.id}  ${e.status}  ${done}  started ${e.createdAt}${took}`;
}

/** An execution's tasks as a table: status, attempts, exit codes (or outcomes), time of the last attempt. */
function taskTable(e: ExecutionView): string[] {
  const rows = [['TASK', 'STATUS', 'ATTEMPTS', 'EXIT', 'DURATION']];
  for (const t of e.tasks) {
    if (t.attempts.length === 0 && e.tasks.length > 20) continue; // a big job's tasks not started yet: the counts say how many
    const exits = t.attempts.map((a) => (a.exitCode !== undefined ? String(a.exitCode) : a.signal !== undefined ? `sig${a.signal}` : a.outcome ?? 'running')).join(',');
    const last = t.attempts.at(-1);
    rows.push([String(t.index), t.status, String(t.attempts.length), exits || '-', last?.durationMs !== undefined ? durationText(last.durationMs) : '-']);
  }
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
  return rows.map((r) => '    ' + r.map((cell, c) => cell.padEnd(widths[c]!)).join('  ').trimEnd());
}

/** An argument as a shell would need it written. */
function quoted(arg: string): string {
  return /^[\w@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`;
}

export function jobText(j: JobView): string {
  const env = Object.entries(j.env).map(([k, v]) => `${k}=${v}`).join(' ');
  return [
    `job       ${j.name}`,
    `image     ${j.image} (${j.digest})`,
    ...(j.command ? [`command   ${j.command.map(quoted).join(' ')}`] : []),
    `tasks     ${shapeText(j)}`,
    `limits    ${Math.round(j.memoryBytes / 1024 ** 2)}Mi memory, ${j.cpus} CPU per task`,
    ...(env ? [`env       ${env}`] : []),
    `created   ${j.createdAt}`,
    ...(j.executions.length ? ['executions (newest first)'] : [`(not run yet: skiff job run ${j.name})`]),
    ...j.executions.flatMap((e) => [
      `  ${executionLine(e)}`,
      ...(e.message ? [`    ${e.message}`] : []),
      ...taskTable(e),
    ]),
  ].join('\n');
}

async function waitFor(program: Command, name: string, id: string): Promise<ExecutionView> {
  const client = clientFrom(program);
  for (;;) {
    const e = await client.jobExecution(name, id);
    if (e.status !== 'running') return e;
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
}

export function registerJobs(program: Command): void {
  const job = program.command('job').description('jobs: tasks that run to completion in containers (each task retried, at most N at once)');
  job
    .command('create <name>')
    .description('create a job from an image in Skiff’s registry (pinned to its digest now); skiff job run starts it')
    .argument('[command...]', 'after --: replaces the image CMD (the ENTRYPOINT stays)')
    .requiredOption('--image <ref>', 'repo[:tag] or repo@sha256:…')
    .option('--tasks <n>', 'tasks per execution, each in its own container with SKIFF_TASK_INDEX (default 1)')
    .option('--parallelism <n>', 'tasks running at once at most (default: all of them, at most 10)')
    .option('--retries <n>', 'times a failed task is retried before the execution fails (default 3)')
    .option('--timeout <duration>', 'per task attempt, then it is killed and counts as failed: 90s, 10m, 1h (default 10m)')
    .option('--env <K=V>', 'environment variable (repeatable)', collect, [])
    .option('--memory <size>', 'memory limit per task, e.g. 256Mi (default 256Mi)')
    .option('--cpu <cores>', 'CPU limit per task in cores, e.g. 0.5 (default 1)')
    .action(async (name: string, command: string[], f: CreateFlags) => {
      const j = await clientFrom(program).createJob(jobDocument(name, command, f));
      line(`pinned    ${j.digest}`);
      line(`created   ${j.name}: ${shapeText(j)}`);
    });
  job
    .command('run <name>')
    .description('start an execution of the job and print its id; --wait waits for it and exits non-zero when it failed')
    .option('--wait', 'wait for the execution to end: exit 0 when every task succeeded, 1 with the cause otherwise')
    .action(async (name: string, o: { wait?: boolean }) => {
      const started = await clientFrom(program).runJob(name);
      line(started.id);
      if (!o.wait) return;
      const e = await waitFor(program, name, started.id);
      if (e.status !== 'succeeded') throw new SkiffError('JOB_FAILED', `execution ${e.id} ${e.status}: ${e.message ?? 'no cause recorded'}`);
      line(`succeeded ${e.counts.succeeded}/${e.tasks.length} tasks in ${durationText(e.durationMs ?? 0)}`);
    });
  withOutput(job.command('ls').description('list jobs with their latest execution')).action(async (o: OutputFlags) => {
    const listed = await clientFrom(program).listJobs();
    await print(o, listed, () => {
      const rows = [['NAME', 'IMAGE', 'TASKS', 'LAST EXECUTION', 'STATUS', 'SUCCEEDED']];
      for (const j of listed.jobs) {
        const e = j.executions[0];
        rows.push([j.name, j.image, `${j.tasks} (${j.parallelism} at once)`, e?.id ?? '-', e?.status ?? '-', e ? `${e.counts.succeeded}/${e.tasks.length}` : '-']);
      }
      const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
      return rows.map((r) => r.map((cell, c) => cell.padEnd(widths[c]!)).join('  ').trimEnd()).join('\n');
    });
  });
  withOutput(job.command('describe <name>').description('a job: its spec and recent executions with each task’s status, attempts, exit codes and durations')).action(async (name: string, o: OutputFlags) => {
    const j = await clientFrom(program).job(name);
    await print(o, j, () => jobText(j));
  });
  job
    .command('logs <name>')
    .description('the output of an execution’s tasks (the latest execution by default): <task>/<attempt> <time> <stream> <line>')
    .option('--execution <id>', 'an execution (skiff job describe lists the recent ones)')
    .option('--task <n>', 'one task, by its index')
    .action(async (name: string, o: { execution?: string; task?: string }) => {
      const task = o.task === undefined ? undefined : integer(o.task, '--task', 0);
      await clientFrom(program).jobLogs(name, { ...(o.execution !== undefined ? { execution: o.execution } : {}), ...(task !== undefined ? { task } : {}) }, (text) => process.stdout.write(text));
    });
  job
    .command('rm <name>')
    .description('remove a job with its executions and kept logs (refused while an execution runs, unless --force)')
    .option('--force', 'cancel a running execution (its tasks are killed) and remove the job')
    .action(async (name: string, o: { force?: boolean }) => {
      await clientFrom(program).deleteJob(name, { force: o.force ?? false });
      line(`removed   ${name}`);
    });
}
