// bench/lib/nginx: Debian's nginx as a child process with a generated config in its own temp prefix,
// either as the fixed-cost backend (`return 200` with a 100-byte body) or as a reverse proxy to it
// with production settings (upstream keepalive, HTTP/1.1 upstream, no access log, no buffering of
// small responses beyond the defaults). stop() is idempotent and removes the prefix.
// A proxy with `tls` terminates TLS instead (TLS 1.2 and 1.3, nginx's defaults otherwise: session
// tickets on, no shared session cache); `h2Port` adds a port serving HTTP/2 (ALPN h2), `plainPort` one
// serving plain HTTP.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { waitForHttp, waitForTls } from './process.ts';

export const NGINX_BIN = '/usr/sbin/nginx';
export const BODY_100 = 'x'.repeat(99) + '\n';

export interface RunningServer {
  port: number;
  pid: number;
  stop(): void;
}

export interface NginxTls {
  certFile: string;
  keyFile: string;
  /** the SNI name the readiness probe sends */
  servername: string;
  /** a second port, TLS with HTTP/2 */
  h2Port?: number;
  /** a port serving the same over plain HTTP */
  plainPort?: number;
}

export type NginxRole = { kind: 'backend' } | { kind: 'proxy'; upstreamPort: number; tls?: NginxTls };

/** `workers` is nginx's worker_processes value ('auto' or a count); `cpus` pins the master and workers. */
export async function startNginx(workDir: string, port: number, role: NginxRole, workers: string, cpus?: string): Promise<RunningServer> {
  if (!existsSync(NGINX_BIN)) throw new Error(`${NGINX_BIN} not found: install the Debian package nginx-light`);
  const prefix = mkdtempSync(path.join(workDir, `nginx-${role.kind}-`));
  mkdirSync(path.join(prefix, 'logs'));
  const location = role.kind === 'backend'
    ? `location / { default_type text/plain; return 200 '${BODY_100.trimEnd()}\\n'; }`
    : [
        'location / {',
        '  proxy_pass http://backend;',
        '  proxy_http_version 1.1;',
        '  proxy_set_header Connection "";',
        '  proxy_set_header Host $host;',
        '  proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;',
        '  proxy_set_header X-Forwarded-Proto $scheme;',
        '}',
      ].join('\n    ');
  const upstream = role.kind === 'proxy' ? `upstream backend { server 127.0.0.1:${role.upstreamPort}; keepalive 256; }` : '';
  const tls = role.kind === 'proxy' ? role.tls : undefined;
  const listen = !tls
    ? `listen 127.0.0.1:${port} reuseport;`
    : [
        `listen 127.0.0.1:${port} ssl reuseport;`,
        ...(tls.h2Port ? [`listen 127.0.0.1:${tls.h2Port} ssl http2 reuseport;`] : []),
        ...(tls.plainPort ? [`listen 127.0.0.1:${tls.plainPort} reuseport;`] : []),
        `ssl_certificate ${tls.certFile};`,
        `ssl_certificate_key ${tls.keyFile};`,
        'ssl_protocols TLSv1.2 TLSv1.3;',
      ].join('\n    ');
  writeFileSync(path.join(prefix, 'nginx.conf'), `
daemon off;
master_process on;
worker_processes ${workers};
pid ${prefix}/nginx.pid;
error_log stderr error;
events { worker_connections 4096; multi_accept on; }
http {
  access_log off;
  keepalive_requests 100000;
  keepalive_timeout 65;
  client_body_temp_path ${prefix}/body;
  proxy_temp_path ${prefix}/proxy;
  fastcgi_temp_path ${prefix}/fastcgi;
  uwsgi_temp_path ${prefix}/uwsgi;
  scgi_temp_path ${prefix}/scgi;
  ${upstream}
  server {
    ${listen}
    ${location}
  }
}
`);
  const argv = ['-p', prefix, '-e', 'stderr', '-c', path.join(prefix, 'nginx.conf')];
  const child = cpus ? spawn('taskset', ['-c', cpus, NGINX_BIN, ...argv], { stdio: ['ignore', 'ignore', 'pipe'] }) : spawn(NGINX_BIN, argv, { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (c: Buffer) => (stderr = (stderr + c.toString()).slice(-4000)));
  const stop = stopper(child, prefix);
  try {
    await (tls ? waitForTls(child, port, tls.servername) : waitForHttp(child, `http://127.0.0.1:${port}/`)).catch((err: Error) => {
      throw new Error(`nginx ${role.kind}: ${err.message}\n${stderr}`);
    });
    return { port, pid: child.pid!, stop };
  } catch (err) {
    stop();
    throw err;
  }
}

/** SIGKILL would orphan nginx's workers: SIGTERM (fast shutdown) reaches them through the master. */
export function stopper(child: ChildProcess, dir: string | undefined, signal: NodeJS.Signals = 'SIGTERM'): () => void {
  let done = false;
  return () => {
    if (done) return;
    done = true;
    if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    if (dir) rmSync(dir, { recursive: true, force: true, maxRetries: 5 });
  };
}

