// test/helpers/pebble: Let's Encrypt's ACME test server (Debian package `pebble`) as a private child
// process on free loopback ports, for the custom-domain tests. pebble validates HTTP-01 challenges by
// fetching http://HOST:<httpPort>/.well-known/acme-challenge/TOKEN: httpPort is the Skiff gateway's
// plain port, and HOST is resolved by pebble-challtestsrv (same package) acting as the DNS server,
// which answers every A query with 127.0.0.1 (AAAA queries get nothing, so validation stays on IPv4).
//
//   directoryUrl  https://127.0.0.1:<port>/dir, served with a certificate made here (caFile trusts it)
//   rootPem()     the per-run root pebble issues under, from its management interface (/roots/0): what
//                 a client of the gateway must trust
//
// Certificates are valid for `validitySeconds` (pebble's certificateValidityPeriod), so a renewal at 2/3
// of the lifetime happens within a test. Nonce rejection and the VA's random sleeps are off (they test
// ACME clients' retries, not ours).
import { spawn, type ChildProcess, execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync, readFileSync } from 'node:fs';
import https from 'node:https';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { freePort, isCI } from './tools.ts';

export interface Pebble {
  directoryUrl: string;
  /** PEM file that trusts pebble's own HTTPS (acme.caFile) */
  caFile: string;
  /** the root pebble's certificates chain to, PEM */
  rootPem(): Promise<string>;
  stop(): Promise<void>;
}

function onPath(name: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${name}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** undefined when pebble can run; a skip reason outside CI; under CI a missing pebble is an error naming the package */
export function requirePebble(): string | undefined {
  if (onPath('pebble') && onPath('pebble-challtestsrv') && onPath('openssl')) return undefined;
  const why = 'pebble and pebble-challtestsrv (Debian package pebble) and openssl (Debian package openssl) are needed: apt-get install pebble openssl';
  if (isCI) throw new Error(why);
  return why;
}

async function waitForPort(port: number, child: ChildProcess, what: string, log: () => string): Promise<void> {
  const end = Date.now() + 15_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`${what} exited with ${child.exitCode}:\n${log()}`);
    const ok = await new Promise<boolean>((resolve) => {
      const s = net.connect(port, '127.0.0.1', () => (s.destroy(), resolve(true)));
      s.on('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > end) throw new Error(`${what} did not listen on ${port}:\n${log()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export async function startPebble(opts: { httpPort: number; validitySeconds?: number; t?: { after(fn: () => unknown): void } }): Promise<Pebble> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'skiff-pebble-'));
  const [listen, management, dns] = [await freePort(), await freePort(), await freePort()];
  // pebble's own HTTPS certificate (the Debian package ships none)
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '2', '-subj', '/CN=pebble test', '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost', '-keyout', path.join(dir, 'key.pem'), '-out', path.join(dir, 'cert.pem')], { stdio: 'ignore' });
  writeFileSync(
    path.join(dir, 'pebble.json'),
    JSON.stringify({
      pebble: {
        listenAddress: `127.0.0.1:${listen}`,
        managementListenAddress: `127.0.0.1:${management}`,
        certificate: path.join(dir, 'cert.pem'),
        privateKey: path.join(dir, 'key.pem'),
        httpPort: opts.httpPort,
        tlsPort: await freePort(),
        ocspResponderURL: '',
        externalAccountBindingRequired: false,
        ...(opts.validitySeconds ? { certificateValidityPeriod: opts.validitySeconds } : {}),
      },
    }),
  );
  let out = '';
  const collect = (child: ChildProcess) => {
    child.stdout!.on('data', (c: Buffer) => (out = (out + c.toString()).slice(-20_000)));
    child.stderr!.on('data', (c: Buffer) => (out = (out + c.toString()).slice(-20_000)));
  };
  const dnsSrv = spawn('pebble-challtestsrv', ['-dns01', `127.0.0.1:${dns}`, '-http01', '', '-https01', '', '-tlsalpn01', '', '-management', `127.0.0.1:${await freePort()}`, '-defaultIPv4', '127.0.0.1', '-defaultIPv6', ''], { stdio: ['ignore', 'pipe', 'pipe'] });
  collect(dnsSrv);
  const pebble = spawn('pebble', ['-config', path.join(dir, 'pebble.json'), '-dnsserver', `127.0.0.1:${dns}`], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, PEBBLE_VA_NOSLEEP: '1', PEBBLE_WFE_NONCEREJECT: '0', PEBBLE_AUTHZREUSE: '0' },
  });
  collect(pebble);
  const kill = () => {
    for (const c of [pebble, dnsSrv]) if (c.exitCode === null) c.kill('SIGKILL');
  };
  process.once('exit', kill);
  const stop = async () => {
    kill();
    await Promise.all([pebble, dnsSrv].map((c) => (c.exitCode !== null || c.signalCode !== null ? undefined : new Promise((r) => c.once('exit', r)))));
    rmSync(dir, { recursive: true, force: true });
  };
  opts.t?.after(stop);
  try {
    await waitForPort(listen, pebble, 'pebble', () => out);
    await waitForPort(management, pebble, 'pebble management', () => out);
  } catch (err) {
    await stop();
    throw err;
  }
  const ca = readFileSync(path.join(dir, 'cert.pem'), 'utf8');
  return {
    directoryUrl: `https://127.0.0.1:${listen}/dir`,
    caFile: path.join(dir, 'cert.pem'),
    rootPem: () =>
      new Promise((resolve, reject) => {
        https.get(`https://127.0.0.1:${management}/roots/0`, { ca }, (res) => {
          let body = '';
          res.on('data', (c) => (body += c));
          res.on('end', () => (res.statusCode === 200 ? resolve(body) : reject(new Error(`pebble /roots/0: ${res.statusCode} ${body}`))));
        }).on('error', reject);
      }),
    stop,
  };
}

