// cli/main: the `skiff` command. Subcommands talk to the daemon only through the API client; `skiff up`
// (the daemon itself) is sent to daemon/main.ts by bin/skiff.mjs and is listed here for help only.
import { Command, Option } from 'commander';
import { registerGc } from './gc.ts';
import { registerPush } from './push.ts';
import { registerToken } from './token.ts';
import { registerServices } from './services.ts';
import { registerRun } from './run.ts';
import { exitWithError } from '../core/exit.ts';
import { VERSION } from '../core/version.ts';

const program = new Command('skiff')
  .description('Skiff: push an image, get an endpoint that scales from zero.')
  .version(VERSION)
  .addOption(new Option('--api <url>', 'control API URL').env('SKIFF_API').default('http://127.0.0.1:5000'))
  .addOption(new Option('--data-dir <dir>', 'data directory (also where admin.token is read from)').env('SKIFF_DATA_DIR'))
  .showHelpAfterError()
  // global options come before the subcommand, so `skiff run IMAGE CMD --flag` passes --flag to CMD
  .enablePositionalOptions();

// bin/skiff.mjs runs `up` in daemon/main.ts; reaching this action means the CLI was started some other way
program
  .command('up')
  .description('run the Skiff daemon (control API, registry, gateway) in the foreground; `skiff up --help` for its options')
  .allowUnknownOption()
  .action(() => exitWithError(new Error('`skiff up` starts through bin/skiff.mjs (npx skiff up)')));
registerGc(program);
registerPush(program);
registerToken(program);
registerServices(program);
registerRun(program);

program.parseAsync(process.argv).catch(exitWithError);
