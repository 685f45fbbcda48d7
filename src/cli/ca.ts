// cli/ca: `skiff ca` prints the CA certificate (PEM) of the registry's TLS listener (`skiff up
// --registry-tls HOST:PORT`), for nodes to trust: `skiff ca > /etc/docker/certs.d/HOST:PORT/ca.crt`.
// Only the certificate goes to stdout, so it can be redirected as is; its fingerprint (to compare with
// the one `skiff up` printed) and, when stdout is a terminal, what to do with it, to stderr.
import { X509Certificate } from 'node:crypto';
import type { Command } from 'commander';
import { clientFrom } from './context.ts';

export function registerCa(program: Command): void {
  program
    .command('ca')
    .description('print the CA certificate of the registry\'s TLS listener (--registry-tls), for nodes: skiff ca > /etc/docker/certs.d/HOST:PORT/ca.crt')
    .action(async () => {
      const pem = await clientFrom(program).caCertificate();
      process.stdout.write(pem.endsWith('\n') ? pem : `${pem}\n`);
      // fetched over the API, perhaps plain HTTP: the fingerprint `skiff up` printed on the server tells
      // whether it is the CA (stderr, so stdout stays the certificate alone)
      process.stderr.write(`CA fingerprint (SHA-256): ${new X509Certificate(pem).fingerprint256}; compare with the one \`skiff up\` printed\n`);
      if (process.stdout.isTTY) {
        process.stderr.write('install it on each node: docker: /etc/docker/certs.d/HOST:PORT/ca.crt; containerd: /etc/containerd/certs.d/HOST:PORT/ (ca = "ca.crt" in hosts.toml); podman: /etc/containers/certs.d/HOST:PORT/ca.crt\n');
      }
    });
}
