// core/exit: how a command (the CLI, `skiff up`) reports failure: one line with the stable error code, exit status 1.
import { SkiffError } from './errors.ts';

export function exitWithError(err: unknown): never {
  if (err instanceof SkiffError) {
    process.stderr.write(`skiff: error ${err.code}: ${err.message}\n`);
  } else {
    process.stderr.write(`skiff: ${(err as Error)?.stack ?? String(err)}\n`);
  }
  process.exit(1);
}
