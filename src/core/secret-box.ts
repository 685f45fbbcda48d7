// core/secret-box: authenticated encryption of secret values under the node key — AES-256-GCM from
// node:crypto, a fresh 96-bit nonce per seal, and associated data naming what is sealed (tenant, secret
// and version: core/secrets.ts secretAad), so a sealed value moved to another row fails to open.
//   sealed = 0x01 | nonce (12 bytes) | ciphertext | tag (16 bytes), stored base64
// Any change to a byte, the AAD or the key makes open() refuse (SECRET_UNREADABLE); nothing is guessed.
import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { SkiffError } from './errors.ts';

const FORMAT = 0x01;
const NONCE_BYTES = 12;
const TAG_BYTES = 16;
export const NODE_KEY_BYTES = 32;

export class SecretBox {
  /** the first 8 bytes of the key's sha256, hex: names the key without revealing it */
  readonly keyId: string;

  constructor(private readonly key: Buffer) {
    if (key.length !== NODE_KEY_BYTES) throw new SkiffError('CONFIG_INVALID', `a node key is ${NODE_KEY_BYTES} bytes, got ${key.length}`);
    this.keyId = createHash('sha256').update(key).digest('hex').slice(0, 16);
  }

  seal(aad: string, plaintext: Buffer): string {
    const nonce = randomBytes(NONCE_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.key, nonce, { authTagLength: TAG_BYTES });
    cipher.setAAD(Buffer.from(aad, 'utf8'));
    const body = Buffer.concat([cipher.update(plaintext), cipher.final()]);
    return Buffer.concat([Buffer.from([FORMAT]), nonce, body, cipher.getAuthTag()]).toString('base64');
  }

  /** The plaintext, or SECRET_UNREADABLE when the bytes, the AAD or the key do not match. `what` names
   *  the sealed thing in the error (never its content). */
  open(aad: string, sealed: string, what: string, keyId?: string): Buffer {
    if (keyId !== undefined && keyId !== this.keyId) {
      throw new SkiffError('SECRET_UNREADABLE', `${what} was sealed with another node key (${keyId}; this daemon's is ${this.keyId}): copy the data dir's secrets.key of the daemon that wrote it`);
    }
    const bytes = Buffer.from(sealed, 'base64');
    if (bytes.length < 1 + NONCE_BYTES + TAG_BYTES || bytes[0] !== FORMAT) throw new SkiffError('SECRET_UNREADABLE', `${what} is not a sealed value of a known format`);
    const nonce = bytes.subarray(1, 1 + NONCE_BYTES);
    const tag = bytes.subarray(bytes.length - TAG_BYTES);
    const body = bytes.subarray(1 + NONCE_BYTES, bytes.length - TAG_BYTES);
    try {
      const decipher = createDecipheriv('aes-256-gcm', this.key, nonce, { authTagLength: TAG_BYTES });
      decipher.setAAD(Buffer.from(aad, 'utf8'));
      decipher.setAuthTag(tag);
      return Buffer.concat([decipher.update(body), decipher.final()]);
    } catch {
      throw new SkiffError('SECRET_UNREADABLE', `${what} does not open with this node key: it was altered, or moved from another secret or version`);
    }
  }
}
