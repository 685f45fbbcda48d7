#!/usr/bin/env node
// The `skiff` command: registers the TypeScript loader, then runs `skiff up` (the daemon,
// src/daemon/main.ts) or any other command (the CLI, src/cli/main.ts). Only the subcommand is looked
// at here: the first argument that is neither an option nor the value of a global option.
import { register } from 'tsx/esm/api';
register();
const GLOBAL_WITH_VALUE = new Set(['--api', '--data-dir']);
const args = process.argv.slice(2);
let command;
for (let i = 0; i < args.length; i++) {
  if (GLOBAL_WITH_VALUE.has(args[i])) i++;
  else if (!args[i].startsWith('-')) {
    command = args[i];
    break;
  }
}
await import(command === 'up' ? '../src/daemon/main.ts' : '../src/cli/main.ts');
