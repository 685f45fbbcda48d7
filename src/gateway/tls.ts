// gateway/tls: the certificates the gateway's TLS port serves, one secure context per host chosen by
// SNI, and the ACME HTTP-01 answers its plain port gives. Pushed in by the control plane
// (serving/domains.ts through daemon/); nothing here reads a file or the store.
//
// A handshake for a name with no certificate (or without SNI: a client dialling the IP) is refused
// with a TLS alert (unrecognized_name / handshake failure): the gateway has no certificate that
// would not be a wrong one, and a browser showing another domain's certificate helps nobody.
import tls from 'node:tls';

export class TlsCertificates {
  private readonly contexts = new Map<string, tls.SecureContext>();
  /** handshakes refused for an unknown name (tests and metrics) */
  refusedHandshakes = 0;

  /** Serves `pair` for `host` from the next handshake on; undefined removes the host. Throws when
   *  node cannot build a context from it (checked before it reaches here). */
  set(host: string, pair: { chain: string; key: string } | undefined): void {
    const h = host.toLowerCase();
    if (!pair) this.contexts.delete(h);
    else this.contexts.set(h, tls.createSecureContext({ cert: pair.chain, key: pair.key }));
  }

  has(host: string): boolean {
    return this.contexts.has(host.toLowerCase());
  }

  /** tls.Server's SNICallback */
  readonly sni = (servername: string, cb: (err: Error | null, ctx?: tls.SecureContext) => void): void => {
    const ctx = this.contexts.get(servername.toLowerCase().replace(/\.$/, ''));
    if (ctx) return cb(null, ctx);
    this.refusedHandshakes++;
    cb(new Error(`no certificate for ${servername.slice(0, 255)}`));
  };
}

/** ACME HTTP-01: token → key authorization, answered at /.well-known/acme-challenge/TOKEN on the plain port. */
export class AcmeChallenges {
  private readonly answers = new Map<string, string>();

  set(token: string, keyAuthorization: string): void {
    this.answers.set(token, keyAuthorization);
  }

  delete(token: string): void {
    this.answers.delete(token);
  }

  /** the key authorization when `target` asks for a token being validated */
  answer(target: string): string | undefined {
    if (this.answers.size === 0 || !target.startsWith(ACME_PREFIX)) return undefined;
    return this.answers.get(target.slice(ACME_PREFIX.length).split('?')[0]!);
  }
}

export const ACME_PREFIX = '/.well-known/acme-challenge/';
