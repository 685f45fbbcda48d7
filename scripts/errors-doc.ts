// Prints the error table of docs/errors.md from the catalogue: `node bin/run-ts.mjs scripts/errors-doc.ts`.
// test/errors-doc.test.ts fails when the document and the catalogue disagree.
import { ERROR_CATALOGUE } from '../src/core/errors.ts';

export function errorTable(): string {
  const rows = Object.entries(ERROR_CATALOGUE).map(([code, s]) => `| \`${code}\` | ${s.status} | ${s.kind} | ${s.description} |`);
  return ['| code | HTTP status | kind | meaning |', '| --- | --- | --- | --- |', ...rows].join('\n');
}

if (import.meta.url === `file://${process.argv[1]}`) process.stdout.write(errorTable() + '\n');
