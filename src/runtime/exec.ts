// runtime/exec: runs a host tool (runc, ip, iptables) to completion and returns its output. A tool that
// is not installed becomes PREFLIGHT_FAILED naming the Debian package, so a fresh machine says what to install.
import { spawn } from 'node:child_process';
import { SkiffError } from '../core/errors.ts';

export interface ExecResult { code: number; stdout: string; stderr: string }

const PACKAGE_OF: Record<string, string> = { runc: 'runc', ip: 'iproute2', bridge: 'iproute2', iptables: 'iptables', nft: 'nftables', 'mkfs.ext4': 'e2fsprogs', mount: 'mount', umount: 'mount', perl: 'perl', tar: 'tar' };

/** Runs `cmd args` (with `input` on its stdin); never throws for a non-zero exit (callers branch on `code`). */
export function execTool(cmd: string, args: string[], input?: string): Promise<ExecResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'] });
    if (input !== undefined) child.stdin!.end(input);
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout!.on('data', (b: Buffer) => out.push(b));
    child.stderr!.on('data', (b: Buffer) => err.push(b));
    child.on('error', (e: NodeJS.ErrnoException) => {
      const tool = cmd.split('/').pop() ?? cmd;
      reject(e.code === 'ENOENT'
        ? new SkiffError('PREFLIGHT_FAILED', `${cmd} not found: install the Debian package ${PACKAGE_OF[tool] ?? tool}`)
        : e);
    });
    child.on('close', (code) => resolve({ code: code ?? 1, stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString() }));
  });
}

/** Runs `cmd args` and throws INTERNAL with the tool's stderr when it fails. */
export async function execOk(cmd: string, args: string[], input?: string): Promise<string> {
  const r = await execTool(cmd, args, input);
  if (r.code !== 0) throw new SkiffError('INTERNAL', `${cmd} ${args.join(' ')} failed (${r.code}): ${r.stderr.trim()}`);
  return r.stdout;
}
