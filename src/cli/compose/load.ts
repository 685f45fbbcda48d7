// cli/compose/load: finds and reads a Compose file as docker compose does — the default file names, the
// project's .env, interpolation, the project name — and validates it against the Compose
// specification's JSON schema (schemas/compose-spec.json, a copy of ../shared/schemas/compose-spec.json
// that a test keeps equal; ajv loads only here).
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { SkiffError } from '../../core/errors.ts';
import { interpolateTree, parseDotenv, type Variables } from './interpolate.ts';
import { normaliseProjectName } from './plan.ts';

/** What docker compose looks for, in this order. */
export const DEFAULT_FILES = ['compose.yaml', 'compose.yml', 'docker-compose.yaml', 'docker-compose.yml'];

export interface LoadedCompose {
  file: string;
  dir: string;
  project: string;
  model: Record<string, unknown>;
  /** the shell's environment over the project's .env */
  env: Variables;
  /** variables used without a value (compose warns and uses "") */
  unset: string[];
  /** COMPOSE_PROFILES */
  profiles: string[];
}

/** The file: -f, else the first default name in the directory or one of its parents. */
export function findComposeFile(file: string | undefined, cwd = process.cwd()): string {
  if (file !== undefined) {
    const f = path.resolve(cwd, file);
    if (!existsSync(f)) throw new SkiffError('NOT_FOUND', `-f ${file}: no such file`);
    return f;
  }
  for (let dir = cwd; ; dir = path.dirname(dir)) {
    for (const name of DEFAULT_FILES) if (existsSync(path.join(dir, name))) return path.join(dir, name);
    if (path.dirname(dir) === dir) break;
  }
  throw new SkiffError('NOT_FOUND', `no Compose file: none of ${DEFAULT_FILES.join(', ')} in ${cwd} or its parents (give -f FILE)`);
}

export async function loadCompose(opts: { file?: string; project?: string; env?: NodeJS.ProcessEnv; cwd?: string }): Promise<LoadedCompose> {
  const file = findComposeFile(opts.file, opts.cwd);
  const dir = path.dirname(file);
  const shell = opts.env ?? process.env;
  const dotenvFile = path.join(dir, '.env');
  const dotenv = existsSync(dotenvFile) ? parseDotenv(readFileSync(dotenvFile, 'utf8'), dotenvFile, shell) : {};
  // the shell wins over .env, as in docker compose
  const env: Record<string, string | undefined> = { ...dotenv, ...shell };
  const { default: YAML } = await import('yaml');
  let parsed: unknown;
  try {
    parsed = YAML.parse(readFileSync(file, 'utf8'), { merge: true, maxAliasCount: 1000 });
  } catch (err) {
    throw new SkiffError('COMPOSE_INVALID', `${file}: not valid YAML: ${(err as Error).message.split('\n')[0]}`);
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw new SkiffError('COMPOSE_INVALID', `${file}: expected a mapping (services:, volumes:, …)`);
  const unset = new Set<string>();
  const model = interpolateTree(parsed, env, unset) as Record<string, unknown>;
  await validateCompose(model, file);
  const named = opts.project ?? env.COMPOSE_PROJECT_NAME ?? (typeof model.name === 'string' && model.name ? model.name : undefined);
  const project = named !== undefined ? named : normaliseProjectName(path.basename(dir));
  if (named !== undefined && normaliseProjectName(named) !== named) {
    throw new SkiffError('COMPOSE_INVALID', `project name ${JSON.stringify(named)} must be lowercase letters, digits, '_' and '-', starting with a letter or digit`);
  }
  if (!project) throw new SkiffError('COMPOSE_INVALID', `no project name: the directory name ${JSON.stringify(path.basename(dir))} has no usable character; give -p NAME or name: in the file`);
  const profiles = (env.COMPOSE_PROFILES ?? '').split(',').map((p) => p.trim()).filter(Boolean);
  return { file, dir, project, model, env, unset: [...unset].sort(), profiles };
}

type Validate = ((data: unknown) => boolean) & { errors?: Array<{ instancePath: string; message?: string; params: Record<string, unknown>; keyword: string }> | null };
let validator: Promise<Validate> | undefined;

/** Validates against the Compose schema; COMPOSE_INVALID naming the first few paths that fail. */
export async function validateCompose(model: unknown, file: string): Promise<void> {
  validator ??= (async () => {
    const [{ Ajv }, { default: schema }] = await Promise.all([import('ajv'), import('../../../schemas/compose-spec.json', { with: { type: 'json' } })]);
    const ajv = new Ajv({ strict: false, allErrors: true, validateSchema: false, validateFormats: false });
    return ajv.compile(schema as object) as Validate;
  })();
  const validate = await validator;
  if (validate(model)) return;
  const seen = new Set<string>();
  const problems: string[] = [];
  // oneOf/anyOf report every branch: keep the most specific line per path
  for (const e of validate.errors ?? []) {
    if (e.keyword === 'oneOf' || e.keyword === 'anyOf') continue;
    const where = e.instancePath.replace(/^\//, '').replace(/\/(\d+)(?=\/|$)/g, '[$1]').replace(/\//g, '.') || '(top level)';
    const text = e.keyword === 'additionalProperties' ? `${where}.${String(e.params.additionalProperty)}: unknown field` : `${where}: ${e.message ?? e.keyword}`;
    if (seen.has(text)) continue;
    seen.add(text);
    problems.push(text);
  }
  throw new SkiffError('COMPOSE_INVALID', `${file} does not match the Compose specification: ${problems.slice(0, 5).join('; ')}${problems.length > 5 ? `; and ${problems.length - 5} more` : ''}`);
}
