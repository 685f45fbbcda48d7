// test/helpers/tools: external programs in tests. requireTool() decides whether a test may run without a
// tool (skip only off-CI and not root; otherwise a missing tool fails naming its Debian package), and
// run() executes a program and fails with its command line and stderr, so a red test says what broke.
import { execFileSync, spawn } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import path from 'node:path';
import net from 'node:net';
import os from 'node:os';

export const isRoot = process.getuid?.() === 0;
export const isCI = process.env.CI === 'true';

function onPath(name: string): boolean {
  return (process.env.PATH ?? '').split(':').some((dir) => {
    try {
      accessSync(path.join(dir, name), constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

/**
 * Use as `test(name, { skip: requireTool('skopeo', 'skopeo') }, ...)`: undefined when the test can run,
 * a skip reason when not root and not CI; under CI or as root a missing tool throws naming the package.
 * Tests driving these tools need root (container storage, dockerd), so non-root always skips.
 */
export function requireTool(name: string, debPackage: string): string | undefined {
  const found = onPath(name);
  if (found && (isRoot || isCI)) return undefined;
  if (!isRoot && !isCI) return `needs root and ${name} (Debian package ${debPackage})`;
  throw new Error(`${name} is not installed: apt-get install ${debPackage}`);
}

export interface RunResult {
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Written to the program's stdin, which is then closed. */
  input?: string;
}

/** Runs `cmd args`; rejects unless it exits 0, with the command, exit status and stderr in the message. */
export function run(cmd: string, args: string[], opts: RunOptions = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd: opts.cwd, env: opts.env ?? process.env, stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    child.on('error', reject);
    child.on('close', (code, signal) => {
      const stdout = Buffer.concat(out).toString();
      const stderr = Buffer.concat(err).toString();
      if (code === 0) return resolve({ stdout, stderr });
      const tail = (stderr || stdout).trim().split('\n').slice(-30).join('\n');
      reject(new Error(`${cmd} ${args.join(' ')} exited with ${code ?? signal}:\n${tail}`));
    });
    // A program that exits without reading stdin makes this write fail with EPIPE; its exit status tells what happened.
    child.stdin.on('error', () => {});
    child.stdin.end(opts.input ?? '');
  });
}

/** A loopback port nothing listens on now (the kernel's pick, released): for a server to bind, or for a
 *  connection that must be refused. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

/** The first /24 of 10.<second>.0.0/16 from 10.<second>.<start>.0 on that no interface of this host has
 *  an address in; its third octet. A bridge left by an earlier, killed test run with the same subnet
 *  would otherwise own the route (the kernel picks one of two equal routes) and a new test network's
 *  instances would never answer. */
export function freeSubnetOctet(second: number, start: number): number {
  // `ip`, not os.networkInterfaces(): libuv lists only interfaces that are up and running, and a
  // leftover bridge with no ports left is NO-CARRIER while its address still routes
  const addrs = JSON.parse(execFileSync('ip', ['-j', '-4', 'addr', 'show'], { encoding: 'utf8' }) || '[]') as Array<{ addr_info?: Array<{ local?: string }> }>;
  const used = new Set<number>();
  for (const a of addrs.flatMap((i) => i.addr_info ?? [])) {
    const m = new RegExp(`^10\\.${second}\\.(\\d+)\\.`).exec(a.local ?? '');
    if (m) used.add(Number(m[1]));
  }
  for (let i = 0; i < 250; i++) {
    const third = (start + i) % 250;
    if (!used.has(third)) return third;
  }
  throw new Error(`no free 10.${second}.x.0/24 for a test network: remove leftover test bridges (ip link del)`);
}

/** `fn` again after a pause while it throws, `tries` times at most; then its last error. */
export async function retrying<T>(fn: () => Promise<T>, o: { tries: number; pauseMs: number }): Promise<T> {
  for (let i = 1; ; i++) {
    try {
      return await fn();
    } catch (err) {
      if (i >= o.tries) throw err;
      await new Promise((r) => setTimeout(r, o.pauseMs));
    }
  }
}
