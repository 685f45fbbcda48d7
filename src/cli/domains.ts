// cli/domains: `skiff domain add | ls | describe | rm` — custom domains with automatic HTTPS
// (docs/domains.md). A certificate and key given with --cert/--key are read here and sent once; the key
// is never printed, by this command or any other.
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { clientFrom } from './context.ts';
import { print, withOutput, type OutputFlags } from './output.ts';
import { SkiffError } from '../core/errors.ts';
import type { DomainDocument, DomainView } from '../core/domains.ts';

const line = (text: string) => process.stdout.write(text + '\n');

function readPem(file: string, flag: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    throw new SkiffError('BAD_REQUEST', `${flag}: cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
}

/** the domain document from the command line; --cert and --key go together */
export function domainDocument(host: string, f: { service: string; cert?: string; key?: string; redirectHttp: boolean }): DomainDocument {
  if ((f.cert === undefined) !== (f.key === undefined)) throw new SkiffError('USAGE', f.cert === undefined ? '--key needs --cert (the certificate chain it belongs to)' : '--cert needs --key (its private key)');
  return {
    host,
    service: f.service,
    redirectHttp: f.redirectHttp,
    ...(f.cert !== undefined && f.key !== undefined ? { certificate: readPem(f.cert, '--cert'), key: readPem(f.key, '--key') } : {}),
  };
}

function certificateLine(d: DomainView): string {
  if (d.status === 'pending') return d.last_error ? `none yet (attempt ${d.attempts} failed; next at ${d.next_attempt_at})` : 'none yet (ordering from the ACME directory)';
  return `${d.status}, valid ${d.not_before} → ${d.not_after}${d.issuer ? `, issued by ${d.issuer}` : ''}`;
}

export function domainText(d: DomainView): string {
  return [
    `Domain:       ${d.host}`,
    `Service:      ${d.service}`,
    `Tenant:       ${d.tenant}`,
    `URL:          ${d.url ?? '(the gateway has no TLS port: start skiff up with --gateway-tls HOST:PORT)'}`,
    `HTTP:         ${d.redirect_http ? 'redirected to https:// (once the certificate is served)' : 'served as well'}`,
    `Certificate:  ${d.source === 'acme' ? 'ACME' : 'supplied'}; ${certificateLine(d)}`,
    ...(d.renews_at ? [`Renews:       ${d.renews_at}`] : []),
    ...(d.last_error ? [`Last error:   ${d.last_error} (${d.attempts} failed attempt${d.attempts === 1 ? '' : 's'}; next ${d.next_attempt_at})`] : []),
    `Created:      ${d.created_at}`,
  ].join('\n');
}

export function registerDomains(program: Command): void {
  const domain = program.command('domain').description('custom domains served over HTTPS (certificates by ACME, or your own)');
  domain
    .command('add <host>')
    .description('route HOST to a service and serve it over TLS; the certificate is obtained by ACME (HTTP-01 on the gateway port) unless --cert/--key give one')
    .requiredOption('--service <name>', 'the service HOST goes to')
    .option('--cert <file>', 'PEM certificate chain (leaf first) to serve instead of one from ACME')
    .option('--key <file>', 'PEM private key of --cert')
    .option('--redirect-http', 'redirect plain HTTP for HOST to https:// (the default)', true)
    .option('--no-redirect-http', 'serve plain HTTP for HOST as well')
    .action(async (host: string, f: { service: string; cert?: string; key?: string; redirectHttp: boolean }) => {
      const d = await clientFrom(program).addDomain(domainDocument(host, f));
      line(`added ${d.host} → ${d.service}; certificate: ${d.source === 'acme' ? 'requested from the ACME directory (skiff domain describe ' + d.host + ' shows its progress)' : `supplied, valid until ${d.not_after}`}`);
      if (!d.url) line('note: the gateway has no TLS port; start skiff up with --gateway-tls HOST:PORT (e.g. 0.0.0.0:443) to serve https');
    });
  withOutput(domain.command('ls').description('list custom domains with their certificate status')).action(async (o: OutputFlags) => {
    const listed = await clientFrom(program).listDomains();
    await print(o, listed, () => {
      if (!listed.domains.length) return 'no domains (skiff domain add HOST --service NAME)';
      const rows = listed.domains.map((d) => [d.host, d.service, d.source, d.status, d.not_after ?? '-', d.last_error ? d.last_error.slice(0, 60) : '']);
      const head = ['HOST', 'SERVICE', 'CERT', 'STATUS', 'EXPIRES', 'LAST ERROR'];
      const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
      return [head, ...rows].map((r) => r.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd()).join('\n');
    });
  });
  withOutput(domain.command('describe <host>').description('a domain: its service, certificate status and validity, renewal, last error')).action(async (host: string, o: OutputFlags) => {
    const d = await clientFrom(program).getDomain(host);
    await print(o, d, () => domainText(d));
  });
  domain
    .command('rm <host>')
    .description('remove a domain: its route, its certificate and key')
    .action(async (host: string) => {
      await clientFrom(program).deleteDomain(host);
      line(`removed ${host}`);
    });
}
