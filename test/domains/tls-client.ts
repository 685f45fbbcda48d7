// test/domains/tls-client: an HTTPS request to the gateway's TLS port naming a host by SNI and Host,
// trusting only the CA given; answers the status, headers, body and the certificate the gateway served.
import tls from 'node:tls';
import https from 'node:https';

export interface TlsAnswer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
  cert: { fingerprint256: string; subjectaltname?: string; valid_to: string; issuer: Record<string, unknown> };
}

export function httpsGet(port: number, host: string, ca: string | string[], path = '/'): Promise<TlsAnswer> {
  return new Promise((resolve, reject) => {
    const req = https.get({ host: '127.0.0.1', port, path, servername: host, headers: { host }, ca, agent: false }, (res) => {
      const cert = (res.socket as tls.TLSSocket).getPeerCertificate();
      let body = '';
      res.on('data', (c) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body, cert: cert as unknown as TlsAnswer['cert'] }));
    });
    req.on('error', reject);
  });
}

/** A bare TLS handshake: the error it ends with, or 'ok' */
export function handshake(port: number, servername: string | undefined): Promise<string> {
  return new Promise((resolve) => {
    const s = tls.connect({ host: '127.0.0.1', port, ...(servername ? { servername } : {}), rejectUnauthorized: false }, () => {
      s.destroy();
      resolve('ok');
    });
    s.on('error', (err) => resolve(err.message));
  });
}
