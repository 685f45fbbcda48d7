// triggers/retry: when the next attempt of a failed delivery happens. Exponential back-off with "equal
// jitter" (half the delay fixed, half random), so many events failing together do not retry in step and
// none retries sooner than half its back-off. Pure: the random source is a parameter.
import type { DeliveryPolicy } from '../core/events.ts';

/** The delay before attempt `attempt + 1`, after `attempt` (≥ 1) attempts failed; `random` in [0, 1). */
export function retryDelayMs(policy: DeliveryPolicy, attempt: number, random: number): number {
  const full = Math.min(policy.maxBackoffMs, policy.backoffMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(full / 2 + (random * full) / 2);
}

/** A delivery succeeded: the service answered 2xx. Anything else (4xx, 5xx, gateway errors) is retried. */
export function delivered(status: number): boolean {
  return status >= 200 && status < 300;
}
