// gateway/ports: what the data plane needs from the control plane. daemon/ plugs them in.
// The gateway never reads the store: routes and endpoints are pushed into it (GatewayState).

export interface ScalePort {
  /**
   * A request is waiting for `revision` and no instance can take it. Called once per waiting burst
   * (the pool coalesces); the scheduler must start an instance and later call setEndpoints().
   */
  requestCapacity(revision: string): void;
}

export interface Endpoint {
  /** instance id */
  id: string;
  host: string;
  port: number;
}

export interface RevisionTarget {
  revision: string;
  /** percent, 0–100; the weights of a route add up to 100 */
  percent: number;
}

export interface Route {
  service: string;
  /** what /s/NAME/ matches: the service's name, or TAG--NAME for a tagged revision's route */
  name?: string;
  /** full host names routed to this service (without port), e.g. "hello.skiff.localhost" */
  hosts: string[];
  targets: RevisionTarget[];
  /** the service's tenant: on the internal port, only its own instances reach it */
  tenant?: string;
  /** ingress internal: not routed on the public ports at all */
  internal?: boolean;
}

export interface RevisionLimits {
  /** hard per-instance concurrency; 0 = unlimited */
  concurrency: number;
  /** requests allowed to wait for capacity before 503 */
  queueLimit: number;
  /** end-to-end request timeout (waiting + upstream) */
  timeoutMs: number;
}

/** Async invocations (Prefer: respond-async): the gateway answers 202 and hands the request to the
 *  durable invocation queue; GET /api/v1/invocations/ID at the service's address reads one back. */
export interface AsyncPort {
  accept(
    req: { service: string; method: string; path: string; headers: Record<string, string>; body: Buffer },
    opts: { idempotencyKey?: string; callback?: string },
  ): Promise<{ id: string; created: boolean; status: string }>;
  /** the invocation's service and its view, if there is one */
  status(id: string): Promise<{ service: string; view: unknown } | undefined>;
}
