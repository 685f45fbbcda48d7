// cli/token: `skiff token create|ls|rm` manages API tokens (registry logins use them as passwords).
import type { Command } from 'commander';
import { Option } from 'commander';
import { clientFrom } from './context.ts';
import { print, withOutput, type OutputFlags } from './output.ts';
import { SkiffError } from '../core/errors.ts';
import { TOKEN_ROLES, type TokenRole } from '../core/auth.ts';

export function registerToken(program: Command): void {
  const token = program.command('token').description('manage API tokens');
  token
    .command('create <name>')
    .description('create a token and print its secret (shown once)')
    .addOption(new Option('--role <role>', 'what the token may do').choices(TOKEN_ROLES).default('push'))
    .option('--project <name>', 'the project it acts in ("*": every project, made only by a token spanning every project); default: the project of this request')
    .addOption(new Option('--tenant <name>', 'the same as --project (its older name)').hideHelp())
    .action(async (name: string, opts: { role: TokenRole; project?: string; tenant?: string }) => {
      const t = await clientFrom(program).createToken(name, opts.role, opts.project ?? opts.tenant);
      process.stdout.write(`${t.secret}\n`);
    });
  withOutput(token.command('ls').description('list tokens (never their secrets: only a hash is kept)')).action(async (o: OutputFlags) => {
    const listed = await clientFrom(program).listTokens();
    await print(o, listed, () => listed.tokens.map((t) => `${t.id}  ${t.role.padEnd(6)}  ${(t.project ?? t.tenant).padEnd(12)}  ${t.name}`).join('\n'));
  });
  token
    .command('rm <token>')
    .description('revoke a token, by id or by name')
    .action(async (idOrName: string) => {
      const client = clientFrom(program);
      const { tokens } = await client.listTokens();
      const t = tokens.find((x) => x.id === idOrName) ?? tokens.find((x) => x.name === idOrName);
      if (!t) throw new SkiffError('NOT_FOUND', `no token with id or name ${JSON.stringify(idOrName)} (skiff token ls lists them)`);
      await client.revokeToken(t.id);
      process.stdout.write(`revoked ${t.id} (${t.name}, ${t.role})\n`);
    });
}
