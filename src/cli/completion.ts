// cli/completion: `skiff completion bash|zsh|fish` prints a completion script for that shell, made
// from the commands and options the CLI registers (so it cannot drift from them): subcommands, their
// options, the choices of an option that has some, and service names — asked of the daemon at
// completion time through `skiff __names services` (hidden), so a typo in a name is caught at Tab.
//   bash: source <(skiff completion bash)      zsh: source <(skiff completion zsh)
//   fish: skiff completion fish | source
import type { Command } from 'commander';
import { clientFrom } from './context.ts';
import { SkiffError } from '../core/errors.ts';

interface Node {
  /** `skiff token create` → ['token', 'create'] */
  path: string[];
  options: string[];
  /** option (its long name) → its choices, and its short name if any */
  choices: Record<string, { values: string[]; short?: string }>;
  subcommands: string[];
  /** its first argument names a service */
  takesService: boolean;
}

/** Commands whose first argument is a service name. */
const SERVICE_COMMANDS = new Set(['deploy', 'update', 'describe', 'revisions', 'logs', 'scale', 'prewarm', 'traffic', 'rollback', 'rm', 'export']);

/** The program's commands as registered (cli/main loads every module for `completion`). */
function tree(program: Command): Node[] {
  const nodes: Node[] = [];
  const walk = (c: Command, path: string[]) => {
    const options = c.options.filter((o) => !o.hidden && o.long).map((o) => o.long!);
    const choices = Object.fromEntries(c.options.filter((o) => o.long && o.argChoices).map((o) => [o.long!, { values: o.argChoices!, ...(o.short ? { short: o.short } : {}) }]));
    const subs = c.commands.filter((s) => !s.name().startsWith('__'));
    nodes.push({ path, options, choices, subcommands: subs.map((s) => s.name()), takesService: path.length === 1 && SERVICE_COMMANDS.has(path[0]!) });
    for (const s of subs) walk(s, [...path, s.name()]);
  };
  walk(program, []);
  return nodes;
}

const words = (list: string[]) => list.join(' ');

function bash(nodes: Node[]): string {
  const cases = nodes
    .map((n) => {
      const key = n.path.join(' ');
      const choiceCases = Object.entries(n.choices).map(([o, c]) => `        ${c.short ? `${c.short}|` : ''}${o}) COMPREPLY=($(compgen -W "${words(c.values)}" -- "$cur")); return;;`).join('\n');
      const names = n.takesService ? `\n      if [[ $cur != -* && $nargs -eq 0 ]]; then COMPREPLY=($(compgen -W "$(skiff __names services 2>/dev/null)" -- "$cur")); return; fi` : '';
      return `    "${key}")\n      case "$prev" in\n${choiceCases}\n      esac${names}\n      COMPREPLY=($(compgen -W "${words([...n.subcommands, ...n.options])}" -- "$cur"));;`;
    })
    .join('\n');
  return `# bash completion for skiff (skiff completion bash)
_skiff() {
  local cur="\${COMP_WORDS[COMP_CWORD]}" prev="\${COMP_WORDS[COMP_CWORD-1]}"
  local path="" nargs=0 i w
  local -A known=(${nodes.filter((n) => n.path.length > 0).map((n) => `["${n.path.join(' ')}"]=1`).join(' ')})
  for ((i = 1; i < COMP_CWORD; i++)); do
    w="\${COMP_WORDS[i]}"
    case "$w" in
      --api|--data-dir) ((i++));;
      -*) ;;
      *) if [[ -n \${known["\${path:+$path }$w"]} ]]; then path="\${path:+$path }$w"; else ((nargs++)); fi;;
    esac
  done
  case "$path" in
${cases}
  esac
}
complete -F _skiff skiff
`;
}

function zsh(nodes: Node[]): string {
  // zsh runs bash completions through bashcompinit: one script, the same behaviour
  return `#compdef skiff
# zsh completion for skiff (skiff completion zsh)
autoload -U +X bashcompinit && bashcompinit
${bash(nodes)}`;
}

function fish(nodes: Node[]): string {
  const lines = ['# fish completion for skiff (skiff completion fish | source)', 'complete -c skiff -f'];
  for (const n of nodes) {
    const cond =
      n.path.length === 0
        ? '__fish_use_subcommand'
        : `__fish_seen_subcommand_from ${n.path.at(-1)}${n.subcommands.length ? `; and not __fish_seen_subcommand_from ${words(n.subcommands)}` : ''}`;
    for (const s of n.subcommands) lines.push(`complete -c skiff -n '${cond}' -a ${s}`);
    for (const o of n.options) {
      const c = n.choices[o];
      lines.push(`complete -c skiff -n '${cond}' -l ${o.slice(2)}${c?.short ? ` -s ${c.short.slice(1)}` : ''}${c ? ` -x -a '${words(c.values)}'` : ''}`);
    }
    if (n.takesService) lines.push(`complete -c skiff -n '${cond}' -a '(skiff __names services 2>/dev/null)'`);
  }
  return lines.join('\n') + '\n';
}

export function registerCompletion(program: Command): void {
  program
    .command('completion <shell>')
    .description('print a completion script: source <(skiff completion bash|zsh), or skiff completion fish | source')
    .action(async (shell: string) => {
      const make = { bash, zsh, fish }[shell as 'bash' | 'zsh' | 'fish'];
      if (!make) throw new SkiffError('USAGE', `completion: the shell is bash, zsh or fish, got ${JSON.stringify(shell)}`);
      process.stdout.write(make(tree(program)));
    });
  // for the scripts: names to complete, one per line (nothing, quietly, when the daemon is not there)
  program
    .command('__names <kind>', { hidden: true })
    .action(async (kind: string) => {
      if (kind !== 'services') return;
      const { services } = await clientFrom(program).listServices().catch(() => ({ services: [] }));
      for (const s of services) process.stdout.write(`${s.name}\n`);
    });
}
