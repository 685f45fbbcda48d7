// daemon/admin-token: makes sure an admin token spanning every project (the operator's) exists and its
// secret is in <data-dir>/admin.token (0600). A lost file is replaced by a new admin token, so the
// machine's root can always get back in.
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { writeFileAtomic } from '../core/fsutil.ts';
import { ADMIN_TOKEN_FILE } from '../core/data-dir.ts';
import type { TokenRepository } from '../store/repositories.ts';
import { ALL_PROJECTS } from '../core/projects.ts';

export async function ensureAdminToken(dataDir: string, tokens: TokenRepository, now: number): Promise<string> {
  const file = path.join(dataDir, ADMIN_TOKEN_FILE);
  const existing = await fsp.readFile(file, 'utf8').then((s) => s.trim(), () => '');
  const principal = existing ? await tokens.verify(existing) : undefined;
  if (principal?.role === 'admin' && principal.tenant === ALL_PROJECTS) return file;
  // token names are unique: a replacement (the file was lost) or a second data dir on a shared
  // PostgreSQL store gets its creation time in its name
  const { secret } = await tokens.create('admin', ALL_PROJECTS, 'admin', now).catch((err: unknown) => {
    if ((err as { code?: string }).code !== 'CONFLICT') throw err;
    return tokens.create(`admin-${new Date(now).toISOString()}`, ALL_PROJECTS, 'admin', now);
  });
  await writeFileAtomic(file, secret + '\n', 0o600);
  await fsp.chmod(file, 0o600);
  return file;
}
