// cli/main: the `skiff` command. Subcommands talk to the daemon only through the API client; `skiff up`
// (the daemon itself) never gets here: daemon/entry.ts sends it to daemon/main.ts.
// Subcommands load lazily: the one named on the command line is imported alone (a chunk of its own in
// the build), so `skiff ls` never loads `skiff push`'s tar and progress-bar libraries. Help and an
// unknown command load them all, so the listing and commander's suggestions stay complete.
import { Command, Option } from 'commander';
import { exitWithError } from '../core/exit.ts';
import { VERSION } from '../core/version.ts';
import { COMMANDS, MODULES, NEEDS_ALL, subcommandOf } from './commands.ts';

async function main(argv: string[]): Promise<void> {
  const program = new Command('skiff')
    .description('Skiff: push an image, get an endpoint that scales from zero.')
    .version(VERSION)
    .addOption(new Option('--api <url>', 'control API URL').env('SKIFF_API').default('http://127.0.0.1:5000'))
    .addOption(new Option('--data-dir <dir>', 'data directory (also where admin.token is read from)').env('SKIFF_DATA_DIR'))
    .addOption(new Option('--project <name>', 'the project to act in (a token spanning every project; a project\'s own token acts in its project)').env('SKIFF_PROJECT'))
    // commander's own errors in Skiff's one form: `skiff: error USAGE: unknown option '--x'`
    .configureOutput({ outputError: (text, write) => write(text.replace(/^error: /, 'skiff: error USAGE: ')) })
    .showHelpAfterError('(add --help for usage)')
    // global options come before the subcommand, so `skiff run IMAGE CMD --flag` passes --flag to CMD
    .enablePositionalOptions();

  // listed for help; `skiff up` itself never gets here (below)
  program
    .command('up')
    .description('run the Skiff daemon (control API, registry, gateway) in the foreground; `skiff up --help` for its options')
    .allowUnknownOption();

  const named = subcommandOf(argv.slice(2));
  const args = argv.slice(2);
  const versionOnly = named === undefined && (args.includes('--version') || args.includes('-V'));
  const alone = named !== undefined && named in COMMANDS && !NEEDS_ALL.has(named);
  const wanted = versionOnly ? [] : alone ? [COMMANDS[named]!] : Object.keys(MODULES);
  for (const register of await Promise.all(wanted.map((m) => MODULES[m]!()))) register(program);
  await program.parseAsync(argv);
}

await main(process.argv).catch(exitWithError);
