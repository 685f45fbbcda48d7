// core/digest: OCI content digests (algorithm:hex), parsed and validated once.
import { createHash, type Hash } from 'node:crypto';
import { SkiffError } from './errors.ts';

const ENCODED_LENGTH: Record<string, number> = { sha256: 64, sha512: 128 };
const DIGEST_RE = /^([a-z0-9]+(?:[.+_-][a-z0-9]+)*):([a-zA-Z0-9=_-]+)$/;

export interface ParsedDigest {
  readonly algorithm: 'sha256' | 'sha512';
  readonly hex: string;
  readonly digest: string;
}

/** Parses a digest string; throws DIGEST_INVALID (or UNSUPPORTED for unknown algorithms). */
export function parseDigest(value: string): ParsedDigest {
  const m = DIGEST_RE.exec(value);
  if (!m) throw new SkiffError('DIGEST_INVALID', `invalid digest ${JSON.stringify(value.slice(0, 200))}`);
  const algorithm = m[1]!;
  const hex = m[2]!;
  const length = ENCODED_LENGTH[algorithm];
  if (length === undefined) throw new SkiffError('UNSUPPORTED', `digest algorithm ${algorithm} is not supported`);
  if (hex.length !== length || !/^[a-f0-9]+$/.test(hex)) {
    throw new SkiffError('DIGEST_INVALID', `invalid ${algorithm} digest ${JSON.stringify(value.slice(0, 200))}`);
  }
  return { algorithm: algorithm as 'sha256' | 'sha512', hex, digest: value };
}

export function isDigest(value: string): boolean {
  try {
    parseDigest(value);
    return true;
  } catch {
    return false;
  }
}

export function newHash(algorithm: 'sha256' | 'sha512' = 'sha256'): Hash {
  return createHash(algorithm);
}

export function digestOf(data: Buffer | string, algorithm: 'sha256' | 'sha512' = 'sha256'): string {
  return `${algorithm}:${createHash(algorithm).update(data).digest('hex')}`;
}
