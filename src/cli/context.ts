// cli/context: finds the API (--api / SKIFF_API) and the token (SKIFF_TOKEN, else <data-dir>/admin.token).
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { SkiffClient } from '../api/client.ts';
import { SkiffError } from '../core/errors.ts';
import { ADMIN_TOKEN_FILE, DEFAULT_DATA_DIR } from '../core/data-dir.ts';

export function clientFrom(program: Command): SkiffClient {
  const { api, dataDir, project } = program.opts<{ api: string; dataDir?: string; project?: string }>();
  return new SkiffClient({ baseUrl: api, ...findToken(dataDir), ...(project ? { project } : {}) });
}

/** The token and where it came from (a 401 says which, so the user knows what to fix). */
function findToken(dataDir: string | undefined): { token: string; tokenSource: string } {
  if (process.env.SKIFF_TOKEN) return { token: process.env.SKIFF_TOKEN, tokenSource: 'SKIFF_TOKEN' };
  const file = path.join(dataDir ?? DEFAULT_DATA_DIR, ADMIN_TOKEN_FILE);
  try {
    return { token: readFileSync(file, 'utf8').trim(), tokenSource: file };
  } catch {
    throw new SkiffError('UNAUTHORIZED', `no token: set SKIFF_TOKEN or run where ${file} is readable (pass --data-dir)`);
  }
}
