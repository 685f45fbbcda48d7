// bench/lib/load: the load generators the proxy benches drive — wrk (HTTP/1.1, plain or https) and
// h2load (nghttp2's, for HTTP/2 and HTTP/1.1 over TLS) — each optionally pinned to some CPUs, with
// their output parsed into req/s and latencies; any non-2xx answer or socket error fails the run.
// The proxy's CPU per request comes from /proc around the run (treeCpuSeconds). killLoad() ends a
// run in progress (a bench's cleanup).
import { spawn, type ChildProcess } from 'node:child_process';
import { treeCpuSeconds } from './proc-stats.ts';

export interface LoadRun {
  rps: number;
  /** ms; h2load reports no percentiles, so its p50 and p99 are its mean (see `meanOnly`) */
  p50: number;
  p99: number;
  /** the latencies are h2load's mean, not percentiles */
  meanOnly?: boolean;
  /** user+system CPU of the measured server process tree per request, µs */
  cpuUsPerReq?: number;
}

const running = new Set<ChildProcess>();

export function killLoad(): void {
  for (const c of running) c.kill('SIGKILL');
}

/** Runs `cmd` (under `taskset -c cpus` when given) to its end; its stdout, or a rejection naming `pkg`. */
export function runTool(cmd: string, argv: string[], cpus: string | undefined, pkg: string): Promise<string> {
  return new Promise<string>((resolve, reject) => {
    const child = cpus ? spawn('taskset', ['-c', cpus, cmd, ...argv]) : spawn(cmd, argv);
    running.add(child);
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
    child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    child.on('error', (err) => reject(new Error(`${cmd}: ${err.message} (Debian package ${pkg})`)));
    child.on('close', (code) => {
      running.delete(child);
      if (code === 0) resolve(stdout);
      else reject(new Error(`${cmd} exited with ${code}: ${stderr}${stdout}`));
    });
  });
}

/** CPU per request of `pid`'s process tree while `measure` runs (undefined pid: not measured). */
export async function withCpu(pid: number | undefined, seconds: number, measure: () => Promise<LoadRun>): Promise<LoadRun> {
  const before = pid === undefined ? 0 : treeCpuSeconds(pid);
  const r = await measure();
  if (pid !== undefined) r.cpuUsPerReq = ((treeCpuSeconds(pid) - before) * 1e6) / (r.rps * seconds);
  return r;
}

export interface WrkOptions {
  threads: number;
  connections: number;
  seconds: number;
  cpus?: string;
  /** extra request headers, `Name: value` */
  headers?: string[];
}

/** `wrk --latency` against `url`; `name` labels errors. */
export async function wrk(url: string, o: WrkOptions, name: string): Promise<LoadRun> {
  // wrk needs at least one connection per thread (-c1 runs one thread)
  const argv = ['-t', String(Math.min(o.threads, o.connections)), '-c', String(o.connections), '-d', `${o.seconds}s`, '--latency'];
  for (const h of o.headers ?? []) argv.push('-H', h);
  return parseWrk(await runTool('wrk', [...argv, url], o.cpus, 'wrk'), name);
}

/** req/s and p50/p99 in ms from `wrk --latency`; non-2xx responses or socket errors fail the bench. */
export function parseWrk(out: string, name: string): LoadRun {
  const bad = /Non-2xx or 3xx responses: (\d+)|Socket errors: .*/.exec(out);
  if (bad) throw new Error(`${name}: ${bad[0]}\n${out}`);
  const rps = /Requests\/sec:\s+([\d.]+)/.exec(out);
  const pct = (p: string) => {
    const m = new RegExp(`^\\s+${p}%\\s+([\\d.]+)(us|ms|s)$`, 'm').exec(out);
    if (!m) throw new Error(`${name}: no ${p}% latency in wrk output:\n${out}`);
    return Number(m[1]) * UNIT_MS[m[2] as 'us' | 'ms' | 's'];
  };
  if (!rps) throw new Error(`${name}: no Requests/sec in wrk output:\n${out}`);
  return { rps: Number(rps[1]), p50: pct('50'), p99: pct('99') };
}

export interface H2loadOptions {
  /** clients (connections) */
  connections: number;
  /** concurrent streams per connection (HTTP/1.1: 1, h2load does not pipeline by default) */
  streams: number;
  seconds: number;
  /** HTTP/1.1 over the same TLS (h2load --h1) instead of HTTP/2 */
  h1?: boolean;
  threads?: number;
  cpus?: string;
}

/** h2load for `seconds` against `url` (https: ALPN picks h2, or http/1.1 with `h1`). */
export async function h2load(url: string, o: H2loadOptions, name: string): Promise<LoadRun> {
  const argv = ['-t', String(Math.min(o.threads ?? 1, o.connections)), '-c', String(o.connections), '-m', String(o.streams), '-D', String(o.seconds), ...(o.h1 ? ['--h1'] : []), url];
  const out = await runTool('h2load', argv, o.cpus, 'nghttp2-client');
  const proto = /Application protocol: (\S+)/.exec(out)?.[1];
  const want = o.h1 ? 'http/1.1' : 'h2';
  if (proto !== want) throw new Error(`${name}: h2load negotiated ${proto ?? 'nothing'}, not ${want}\n${out}`);
  const reqs = /requests: (\d+) total, \d+ started, (\d+) done, (\d+) succeeded, (\d+) failed, (\d+) errored, (\d+) timeout/.exec(out);
  const codes = /status codes: (\d+) 2xx, (\d+) 3xx, (\d+) 4xx, (\d+) 5xx/.exec(out);
  const rps = /finished in [\d.]+m?s, ([\d.]+) req\/s/.exec(out);
  const mean = /time for request:\s+\S+\s+\S+\s+([\d.]+)(us|ms|s)/.exec(out);
  if (!reqs || !codes || !rps || !mean) throw new Error(`${name}: unexpected h2load output:\n${out}`);
  if (Number(reqs[4]) + Number(reqs[5]) + Number(reqs[6]) > 0 || Number(codes[2]) + Number(codes[3]) + Number(codes[4]) > 0) throw new Error(`${name}: failed requests\n${out}`);
  const m = Number(mean[1]) * UNIT_MS[mean[2] as 'us' | 'ms' | 's'];
  return { rps: Number(rps[1]), p50: m, p99: m, meanOnly: true };
}

const UNIT_MS = { us: 1e-3, ms: 1, s: 1e3 };
