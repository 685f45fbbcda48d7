// daemon/admin-token: tokens whose secret the daemon keeps in a file of its data dir (0600), re-created
// when the file is lost: the operator's admin token (<data-dir>/admin.token, spanning every project, so
// the machine's root can always get back in) and, in cluster mode, the pull token the swarm's nodes pull
// images from Skiff's registry with (<data-dir>/swarm-pull.token).
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { writeFileAtomic } from '../core/fsutil.ts';
import { ADMIN_TOKEN_FILE } from '../core/data-dir.ts';
import type { TokenRole } from '../core/auth.ts';
import type { TokenRepository } from '../store/repositories.ts';
import { ALL_PROJECTS } from '../core/projects.ts';

/** The file's path, once it holds the secret of a `role` token of every project named `name`. */
export async function ensureFileToken(dataDir: string, fileName: string, name: string, role: TokenRole, tokens: TokenRepository, now: number): Promise<string> {
  const file = path.join(dataDir, fileName);
  const existing = await fsp.readFile(file, 'utf8').then((s) => s.trim(), () => '');
  const principal = existing ? await tokens.verify(existing) : undefined;
  if (principal?.role === role && principal.tenant === ALL_PROJECTS) return file;
  // token names are unique: a replacement (the file was lost) or a second data dir on a shared
  // PostgreSQL store gets its creation time in its name
  const { secret } = await tokens.create(name, ALL_PROJECTS, role, now).catch((err: unknown) => {
    if ((err as { code?: string }).code !== 'CONFLICT') throw err;
    return tokens.create(`${name}-${new Date(now).toISOString()}`, ALL_PROJECTS, role, now);
  });
  await writeFileAtomic(file, secret + '\n', 0o600);
  await fsp.chmod(file, 0o600);
  return file;
}

export function ensureAdminToken(dataDir: string, tokens: TokenRepository, now: number): Promise<string> {
  return ensureFileToken(dataDir, ADMIN_TOKEN_FILE, 'admin', 'admin', tokens, now);
}
