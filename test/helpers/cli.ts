// test/helpers/cli: the real `skiff` command as a child process (`node bin/skiff.mjs --api <daemon>`),
// authenticated by SKIFF_TOKEN, for CLI end-to-end tests.
import assert from 'node:assert/strict';
import { spawn, type ChildProcessByStdio } from 'node:child_process';
import path from 'node:path';
import type { Readable } from 'node:stream';

const ROOT = path.resolve(import.meta.dirname, '../..');

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Starts `skiff --api <api> ...args`; the caller owns the child (e.g. `skiff logs -f`). */
export function spawnSkiff(api: string, token: string, args: string[], env: Record<string, string> = {}): ChildProcessByStdio<null, Readable, Readable> {
  return spawn(process.execPath, ['bin/skiff.mjs', '--api', api, ...args], {
    cwd: ROOT,
    env: { ...process.env, SKIFF_TOKEN: token, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

/** Runs `skiff --api <api> ...args` (with extra environment variables `env`) to completion; never rejects on a non-zero exit. */
export function skiff(d: { url: string; token: string }, args: string[], token = d.token, env: Record<string, string> = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawnSkiff(d.url, token, args, env);
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (b: Buffer) => (stdout += b));
    child.stderr.on('data', (b: Buffer) => (stderr += b));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** Runs the command (with extra environment variables `env`), which must succeed: its stdout and stderr. */
export async function skiffSucceeds(d: { url: string; token: string }, args: string[], env: Record<string, string> = {}): Promise<CliResult> {
  const r = await skiff(d, args, d.token, env);
  assert.equal(r.code, 0, `skiff ${args.join(' ')} failed:\n${r.stderr}${r.stdout}`);
  return r;
}

/** Runs the command, which must succeed: its stdout. */
export async function skiffOk(d: { url: string; token: string }, args: string[]): Promise<string> {
  return (await skiffSucceeds(d, args)).stdout;
}

/** Runs the command, which must fail (exit 1) with stderr matching `stderr`. */
export async function skiffFails(d: { url: string; token: string }, args: string[], stderr: RegExp): Promise<void> {
  const r = await skiff(d, args);
  assert.equal(r.code, 1, `skiff ${args.join(' ')} should fail:\n${r.stdout}`);
  assert.match(r.stderr, stderr);
}
