// daemon/entry: the `skiff` program's entry (bin/skiff.mjs, dist/cli.mjs). `skiff [global options] up …`
// goes to daemon/main.ts, which parses its own command line; everything else to cli/main.ts. Both load
// only here, dynamically, so the CLI never loads the daemon's modules (and stays fast) — and the fence
// between them holds (cli may not import daemon; the daemon, the composition root, may import anything).
import { subcommandOf } from '../cli/commands.ts';

if (subcommandOf(process.argv.slice(2)) === 'up') await import('./main.ts');
else await import('../cli/main.ts');
