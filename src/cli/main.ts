// cli/main: the `skiff` command. Subcommands talk to the daemon only through the API client,
// except `up`, which starts the daemon in this process.
import { Command, Option } from 'commander';
import { registerUp } from './up.ts';
import { registerGc } from './gc.ts';
import { registerPush } from './push.ts';
import { registerToken } from './token.ts';
import { registerServices } from './services.ts';
import { registerRun } from './run.ts';
import { exitWithError } from './output.ts';
import { VERSION } from '../daemon/version.ts';

const program = new Command('skiff')
  .description('Skiff: push an image, get an endpoint that scales from zero.')
  .version(VERSION)
  .addOption(new Option('--api <url>', 'control API URL').env('SKIFF_API').default('http://127.0.0.1:5000'))
  .addOption(new Option('--data-dir <dir>', 'data directory (also where admin.token is read from)').env('SKIFF_DATA_DIR'))
  .showHelpAfterError()
  // global options come before the subcommand, so `skiff run IMAGE CMD --flag` passes --flag to CMD
  .enablePositionalOptions();

registerUp(program);
registerGc(program);
registerPush(program);
registerToken(program);
registerServices(program);
registerRun(program);

program.parseAsync(process.argv).catch(exitWithError);
