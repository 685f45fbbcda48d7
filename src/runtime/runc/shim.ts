// runtime/runc/shim: the per-instance supervisor process, started detached (own session, no stdio) by
// the driver so it outlives daemon restarts. It is the parent of `runc run --keep`, which is the parent
// of the instance and returns its exit status — the one reliable way to learn an exit code, since the
// init is nobody else's child. It pipes the instance's stdout/stderr into timestamped, rotated log files
// and, when runc returns, records the exit status and the cgroup's OOM-kill count in exit.json.
// It is spawned at create() and waits on start.fifo, so its own start-up (Node + tsx, the slow part)
// is paid ahead of need and start() costs one FIFO write plus `runc run`.
// Usage: node --import tsx shim.ts <path of shim.json>
import { readFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { spawn } from 'node:child_process';
import { constants } from 'node:os';
import { writeFileAtomic } from '../../core/fsutil.ts';
import { oomKillCount } from './cgroup.ts';
import type { ExitRecord } from './exit.ts';
import { RotatingLogWriter } from './log-file.ts';

export interface ShimConfig {
  runc: string;
  runcRoot: string;
  id: string;
  bundle: string;
  startFifo: string;
  initPidFile: string;
  exitFile: string;
  logsDir: string;
  logMaxBytes: number;
  logKeep: number;
  cgroupsPath: string;
}

async function main(configFile: string): Promise<void> {
  const cfg = JSON.parse(readFileSync(configFile, 'utf8')) as ShimConfig;
  // Opening a FIFO for reading blocks until start() opens it for writing; EOF comes when it closes.
  const fifo = await open(cfg.startFifo, 'r');
  await fifo.readFile();
  await fifo.close();
  const logs = new RotatingLogWriter(cfg.logsDir, cfg.logMaxBytes, cfg.logKeep);
  const child = spawn(cfg.runc, ['--root', cfg.runcRoot, 'run', '--keep', '--bundle', cfg.bundle, '--pid-file', cfg.initPidFile, cfg.id], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout.setEncoding('utf8').on('data', (s: string) => logs.write('stdout', s, new Date()));
  child.stderr.setEncoding('utf8').on('data', (s: string) => logs.write('stderr', s, new Date()));
  const status = await new Promise<number>((resolve) => {
    child.on('error', (e) => { logs.write('stderr', `skiff: cannot run runc: ${e.message}\n`, new Date()); resolve(127); });
    child.on('close', (code, signal) => resolve(code ?? 128 + (signal ? constants.signals[signal] : 0)));
  });
  logs.close(new Date());
  const record: ExitRecord = { status, oomKills: (await oomKillCount(cfg.cgroupsPath)) ?? 0 };
  await writeFileAtomic(cfg.exitFile, JSON.stringify(record));
}

const configFile = process.argv[2];
if (configFile) await main(configFile);
