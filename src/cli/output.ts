// cli/output: what read commands print — a table for people by default, or the API's own answer for
// scripts: `-o json` / `--json`, or `-o yaml`. The JSON is exactly what the API returned (its schema is
// in /api/openapi.json), so a script reads the same fields through the CLI and the API.
import { Option, type Command } from 'commander';

export interface OutputFlags {
  output: 'table' | 'json' | 'yaml';
  json?: boolean;
}

/** Adds `-o, --output` and `--json` to a read command. */
export function withOutput(c: Command): Command {
  return c
    .addOption(new Option('-o, --output <format>', 'table (for people), json or yaml (the API’s answer, for scripts)').choices(['table', 'json', 'yaml']).default('table'))
    .option('--json', 'same as -o json');
}

/** Prints `value` as asked, or `table()` for people. */
export async function print(o: OutputFlags, value: unknown, table: () => string): Promise<void> {
  const format = o.json ? 'json' : o.output;
  if (format === 'json') process.stdout.write(JSON.stringify(value, null, 2) + '\n');
  else if (format === 'yaml') {
    // yaml loads only here: most commands never need it
    const { default: YAML } = await import('yaml');
    process.stdout.write(YAML.stringify(value));
  } else process.stdout.write(table() + '\n');
}

/** Rows (the header first) as left-aligned columns two spaces apart. */
export function alignColumns(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return rows.map((r) => r.map((cell, i) => cell.padEnd(widths[i]!)).join('  ').trimEnd()).join('\n');
}
