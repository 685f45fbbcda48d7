// images/budgets: the limits an unpack enforces while streaming, so a decompression bomb or an archive
// of a million empty files stops at the budget instead of at a full disk. Defaults live here; the
// daemon may override any of them.
import { SkiffError } from '../core/errors.ts';

export interface UnpackBudgets {
  /** Uncompressed tar bytes (headers + contents), counted as they leave the decompressor. */
  readonly maxBytes: number;
  /** Tar entries of any kind, dropped ones included. */
  readonly maxEntries: number;
  /** Bytes of an entry name or link target. */
  readonly maxPathLength: number;
  /** Largest uid/gid accepted; larger (or negative, or non-integer) ids make the layer invalid. */
  readonly maxId: number;
}

export const DEFAULT_BUDGETS: UnpackBudgets = {
  maxBytes: 16 * 1024 ** 3,
  maxEntries: 500_000,
  maxPathLength: 4096,
  maxId: 2 ** 31 - 1,
};

export function budgetsWith(overrides: Partial<UnpackBudgets> = {}): UnpackBudgets {
  const b = { ...DEFAULT_BUDGETS, ...overrides };
  for (const [k, v] of Object.entries(b)) {
    if (!Number.isSafeInteger(v) || v < 0) throw new SkiffError('CONFIG_INVALID', `unpack budget ${k} must be a non-negative integer`);
  }
  return b;
}

export function tooLarge(what: string): SkiffError {
  return new SkiffError('LAYER_TOO_LARGE', `layer exceeds the unpack budget: ${what}`);
}
