// core/quantity: parsing of the quantities users write in specs and flags, Kubernetes style:
// memory "256Mi" / "1G" / bytes, CPU "0.5" / "500m", durations "300s" / "5m" / "1h" / ms numbers.
import { SkiffError } from './errors.ts';

const MEMORY_UNITS: Record<string, number> = {
  '': 1, k: 1e3, K: 1e3, M: 1e6, G: 1e9, T: 1e12, Ki: 1024, Mi: 1024 ** 2, Gi: 1024 ** 3, Ti: 1024 ** 4,
};

export function parseMemory(value: string | number, field: string): number {
  if (typeof value === 'number') return checkPositive(value, field);
  const m = /^(\d+(?:\.\d+)?)([kKMGT]i?|)$/.exec(value.trim());
  const unit = m ? MEMORY_UNITS[m[2]!] : undefined;
  if (!m || unit === undefined) throw new SkiffError('BAD_REQUEST', `${field}: expected a memory size like 256Mi or 1Gi, got ${JSON.stringify(value)}`);
  return checkPositive(Math.round(Number(m[1]) * unit), field);
}

/** A memory size for people to read, parseMemory's units: whole Gi exactly, else Gi to one decimal, below 1 Gi whole Mi. */
export function formatMemory(n: number): string {
  const gi = 1024 ** 3;
  if (n >= gi) return n % gi === 0 ? `${n / gi}Gi` : `${(n / gi).toFixed(1)}Gi`;
  return `${Math.round(n / 1024 ** 2)}Mi`;
}

/** CPU in cores (0.5 = half a core). */
export function parseCpu(value: string | number, field: string): number {
  if (typeof value === 'number') return checkPositive(value, field);
  const m = /^(\d+(?:\.\d+)?)(m?)$/.exec(value.trim());
  if (!m) throw new SkiffError('BAD_REQUEST', `${field}: expected CPU cores like 0.5 or 500m, got ${JSON.stringify(value)}`);
  return checkPositive(Number(m[1]) / (m[2] ? 1000 : 1), field);
}

const DURATION_UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** Duration in ms; a bare number is seconds (as Knative's timeoutSeconds). */
export function parseDuration(value: string | number, field: string): number {
  if (typeof value === 'number') return checkPositive(value * 1000, field);
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(value.trim());
  if (!m) throw new SkiffError('BAD_REQUEST', `${field}: expected a duration like 30s, 5m or 500ms, got ${JSON.stringify(value)}`);
  return checkPositive(Math.round(Number(m[1]) * DURATION_UNITS[m[2] ?? 's']!), field);
}

function checkPositive(n: number, field: string): number {
  if (!Number.isFinite(n) || n <= 0) throw new SkiffError('BAD_REQUEST', `${field}: must be greater than zero`);
  return n;
}
