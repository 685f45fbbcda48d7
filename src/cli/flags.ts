// cli/flags: parsing of flag values shared by the command modules — repeatable flags, and integers
// whose errors name the flag.
import { SkiffError } from '../core/errors.ts';

/** commander's reducer for a repeatable flag: every value, in order. */
export function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

/** A flag's integer of at least `min`; an error naming the flag otherwise. */
export function integer(value: string, flag: string, min: number): number {
  const n = Number(value);
  if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(n) || n < min) {
    throw new SkiffError('BAD_REQUEST', `${flag}: expected ${min > 0 ? 'a positive' : 'a non-negative'} integer, got ${JSON.stringify(value)}`);
  }
  return n;
}
