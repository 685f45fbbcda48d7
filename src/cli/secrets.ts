// cli/secrets: `skiff secret set | ls | describe | rm`. Values go to the daemon and never come back: every
// answer, table and error here names secrets, versions and keys, never a value — not even one the user
// mistyped (a malformed KEY=VALUE argument is named by its position).
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { clientFrom } from './context.ts';
import { print, withOutput, type OutputFlags } from './output.ts';
import { collect } from './flags.ts';
import { SkiffError } from '../core/errors.ts';
import { SECRET_KEY_RE, type SecretView } from '../core/secrets.ts';

function assertKey(key: string, where: string): string {
  if (!SECRET_KEY_RE.test(key)) throw new SkiffError('BAD_REQUEST', `${where}: ${JSON.stringify(key.slice(0, 80))} is not a valid key (letters, digits, _, ., -; not starting with a digit, . or -)`);
  return key;
}

/** A file's text; binary (not UTF-8) content is refused, since values are text. */
function readText(file: string, flag: string): string {
  let bytes: Buffer;
  try {
    bytes = readFileSync(file);
  } catch (err) {
    throw new SkiffError('BAD_REQUEST', `${flag} ${file}: cannot read it (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
  const text = bytes.toString('utf8');
  if (!Buffer.from(text, 'utf8').equals(bytes)) throw new SkiffError('BAD_REQUEST', `${flag} ${file}: not UTF-8 text (secret values are text; base64 binary content first)`);
  return text;
}

/** KEY=VALUE lines of a .env file: `export ` prefixes, # comments and blank lines allowed; a value may
 *  be in double quotes (\n, \" and \\ escapes) or single quotes (taken as is). */
export function parseEnvFile(text: string, file: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [i, raw] of text.split(/\r?\n/).entries()) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const m = /^(?:export\s+)?([^=\s]+)\s*=\s*(.*)$/.exec(line);
    if (!m) throw new SkiffError('BAD_REQUEST', `--from-env-file ${file}: line ${i + 1} is not KEY=VALUE`);
    const key = assertKey(m[1]!, `--from-env-file ${file} line ${i + 1}`);
    let value = m[2]!;
    if (value.startsWith('"') && value.endsWith('"') && value.length >= 2) {
      value = value.slice(1, -1).replace(/\\(["\\n])/g, (_, c: string) => (c === 'n' ? '\n' : c));
    } else if (value.startsWith("'") && value.endsWith("'") && value.length >= 2) {
      value = value.slice(1, -1);
    } else {
      value = value.replace(/\s+#.*$/, '');
    }
    out[key] = value;
  }
  return out;
}

interface SetFlags {
  fromFile: string[];
  fromEnvFile: string[];
  merge?: boolean;
  remove: string[];
}

/** The values a `secret set` states, from its arguments and flags, later sources winning. */
export function secretData(pairs: string[], f: SetFlags): Record<string, string> {
  const data: Record<string, string> = {};
  for (const file of f.fromEnvFile) Object.assign(data, parseEnvFile(readText(file, '--from-env-file'), file));
  for (const spec of f.fromFile) {
    const eq = spec.indexOf('=');
    if (eq <= 0) throw new SkiffError('BAD_REQUEST', `--from-file expects KEY=PATH, got ${JSON.stringify(spec)}`);
    data[assertKey(spec.slice(0, eq), '--from-file')] = readText(spec.slice(eq + 1), `--from-file ${spec.slice(0, eq)}=`);
  }
  for (const [i, p] of pairs.entries()) {
    const eq = p.indexOf('=');
    // the argument itself is not repeated: it may be a value typed without its key
    if (eq <= 0) throw new SkiffError('BAD_REQUEST', `secret set: argument ${i + 2} is not KEY=VALUE`);
    data[assertKey(p.slice(0, eq), `argument ${i + 2}`)] = p.slice(eq + 1);
  }
  return data;
}

const versionsText = (s: SecretView) => `version ${s.version}, keys ${s.keys.join(', ')}`;

export function registerSecrets(program: Command): void {
  const secret = program.command('secret').description('manage secrets: versioned, encrypted at rest, used by services as env vars or files (values are never shown)');
  secret
    .command('set <name> [pairs...]')
    .description(
      'make a new version of a secret from KEY=VALUE arguments, files and .env files. The new version holds exactly the keys given ' +
        '(like a new Secret Manager version), unless --merge keeps the latest version\'s other keys. Running revisions keep the version ' +
        'they pinned until the next deploy',
    )
    .option('--from-file <KEY=PATH>', 'a key whose value is the file\'s content (repeatable)', collect, [])
    .option('--from-env-file <path>', 'every KEY=VALUE line of a .env file (repeatable)', collect, [])
    .option('--merge', 'keep the latest version\'s keys not given here')
    .option('--remove <KEY>', 'drop a key from the latest version (with --merge; repeatable)', collect, [])
    .action(async (name: string, pairs: string[], f: SetFlags) => {
      const data = secretData(pairs, f);
      for (const k of f.remove) assertKey(k, '--remove');
      if (f.remove.length && !f.merge) throw new SkiffError('USAGE', '--remove needs --merge (without it, the new version holds exactly the keys given)');
      if (!Object.keys(data).length && !f.remove.length) throw new SkiffError('USAGE', 'secret set: give KEY=VALUE, --from-file KEY=PATH or --from-env-file FILE');
      const s = await clientFrom(program).setSecret(name, { data, ...(f.merge ? { merge: true } : {}), ...(f.remove.length ? { remove: f.remove } : {}) });
      process.stdout.write(`secret ${s.name} ${versionsText(s)}\n`);
      if (s.version > 1) process.stdout.write(`running revisions keep the version they pinned: deploy (or skiff update) a service to use version ${s.version}\n`);
    });

  withOutput(secret.command('ls').description('list secrets: names, latest version, key names, times (never values)')).action(async (o: OutputFlags) => {
    const listed = await clientFrom(program).listSecrets();
    await print(o, listed, () => {
      const rows = [['NAME', 'VERSION', 'KEYS', 'UPDATED']];
      for (const s of listed.secrets) rows.push([s.name, String(s.version), s.keys.join(','), s.updatedAt]);
      const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
      return rows.map((r) => r.map((cell, c) => cell.padEnd(widths[c]!)).join('  ').trimEnd()).join('\n');
    });
  });

  withOutput(secret.command('describe <name>').description('a secret\'s versions with their key names, and the revisions using it (never values)')).action(async (name: string, o: OutputFlags) => {
    const s = await clientFrom(program).secret(name);
    await print(o, s, () => {
      const out = [`secret    ${s.name}`, `latest    ${versionsText(s)}`, `created   ${s.createdAt}`, `updated   ${s.updatedAt}`, 'versions'];
      for (const v of s.versions ?? []) out.push(`  ${String(v.version).padEnd(4)} ${v.createdAt}  ${v.keys.join(', ')}`);
      out.push('used by');
      if (!s.usedBy?.length) out.push('  (no revision)');
      for (const u of s.usedBy ?? []) out.push(`  ${u.revision.padEnd(24)} version ${u.version}${u.serving ? '' : '  (not serving: removing the secret would stop it from starting again)'}`);
      return out.join('\n');
    });
  });

  secret
    .command('rm <name>')
    .description('remove a secret with every version (refused while the latest or a routed revision of a service uses it)')
    .action(async (name: string) => {
      await clientFrom(program).deleteSecret(name);
      process.stdout.write(`removed secret ${name}\n`);
    });
}
