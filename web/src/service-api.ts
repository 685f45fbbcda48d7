// web/service-api: the service page's calls of the public API (/api/v1/services/NAME/…), the same
// operations the CLI's `skiff describe | traffic | rollback | scale | prewarm` use.
import type { PrewarmResult, ServiceStatsView, ServiceView } from '../../src/core/views.ts';
import { call, getJson, type ApiResult } from './api.ts';

const base = (name: string) => `/api/v1/services/${encodeURIComponent(name)}`;

export function getService(name: string, signal?: AbortSignal): Promise<ApiResult<ServiceView>> {
  return getJson<ServiceView>(base(name), signal);
}

export function setTraffic(name: string, body: { traffic: Array<{ revision: string; percent: number; tag?: string }> }): Promise<ApiResult<ServiceView>> {
  return call<ServiceView>('PUT', `${base(name)}/traffic`, { body });
}

export function rollback(name: string, to?: string): Promise<ApiResult<ServiceView>> {
  return call<ServiceView>('POST', `${base(name)}/rollback`, { body: to ? { to } : {} });
}

export function scale(name: string, bounds: { min?: number; max?: number }): Promise<ApiResult<ServiceView>> {
  return call<ServiceView>('PATCH', `${base(name)}/scaling`, { body: bounds });
}

export function prewarm(name: string, body: { instances: number; for: string }): Promise<ApiResult<PrewarmResult>> {
  return call<PrewarmResult>('POST', `${base(name)}/prewarm`, { body });
}

/** The last hour in steps; a daemon without the route (404) has no data yet, not an error. */
export function getStats(name: string, signal?: AbortSignal): Promise<ApiResult<ServiceStatsView>> {
  return getJson<ServiceStatsView>(`${base(name)}/stats?window=1h`, signal);
}

export function logsUrl(name: string, q: { follow: boolean; tail?: number; since?: string }): string {
  const p = new URLSearchParams();
  if (q.follow) p.set('follow', 'true');
  if (q.tail !== undefined) p.set('tail', String(q.tail));
  if (q.since) p.set('since', q.since);
  return `${base(name)}/logs?${p}`;
}
