// core/errors: the one typed error of Skiff and its closed catalogue of stable codes.
// Every surface (OCI /v2, REST /api) maps a SkiffError to its own shape in exactly one serializer.
// `user` errors are the caller's fault and are logged at debug; `system` errors are ours and logged at error.
// Must not import anything outside core.

export interface ErrorSpec {
  readonly status: number;
  readonly kind: 'user' | 'system';
  readonly description: string;
}

/** The catalogue. Codes are stable API: add, never rename. docs/errors.md is kept in step by a test. */
export const ERROR_CATALOGUE = {
  // OCI distribution-spec codes (used verbatim on /v2)
  BLOB_UNKNOWN: { status: 404, kind: 'user', description: 'blob unknown to registry' },
  BLOB_UPLOAD_INVALID: { status: 400, kind: 'user', description: 'blob upload invalid' },
  BLOB_UPLOAD_UNKNOWN: { status: 404, kind: 'user', description: 'blob upload unknown to registry' },
  DIGEST_INVALID: { status: 400, kind: 'user', description: 'provided digest did not match uploaded content' },
  MANIFEST_BLOB_UNKNOWN: { status: 404, kind: 'user', description: 'manifest references a manifest or blob unknown to registry' },
  MANIFEST_INVALID: { status: 400, kind: 'user', description: 'manifest invalid' },
  MANIFEST_UNKNOWN: { status: 404, kind: 'user', description: 'manifest unknown to registry' },
  NAME_INVALID: { status: 400, kind: 'user', description: 'invalid repository name' },
  NAME_UNKNOWN: { status: 404, kind: 'user', description: 'repository name not known to registry' },
  SIZE_INVALID: { status: 400, kind: 'user', description: 'provided length did not match content length' },
  UNAUTHORIZED: { status: 401, kind: 'user', description: 'authentication required' },
  DENIED: { status: 403, kind: 'user', description: 'requested access to the resource is denied' },
  UNSUPPORTED: { status: 405, kind: 'user', description: 'the operation is unsupported' },
  TOOMANYREQUESTS: { status: 429, kind: 'user', description: 'too many requests' },
  // Skiff's own codes
  RANGE_INVALID: { status: 416, kind: 'user', description: 'requested range or upload chunk is out of order or not satisfiable' },
  PAYLOAD_TOO_LARGE: { status: 413, kind: 'user', description: 'request body exceeds the allowed size' },
  TAG_INVALID: { status: 400, kind: 'user', description: 'invalid tag' },
  BAD_REQUEST: { status: 400, kind: 'user', description: 'request is malformed' },
  CSRF_INVALID: { status: 403, kind: 'user', description: "a POST, PUT, PATCH or DELETE signed in by the dashboard's session cookie does not carry the session's CSRF token in the X-Skiff-CSRF header, or a sign-in came from another site (docs/security.md, Sessions)" },
  USAGE: { status: 400, kind: 'user', description: 'the command line is malformed: an unknown command or option, a missing argument or flag' },
  NOT_FOUND: { status: 404, kind: 'user', description: 'no such resource' },
  CONFLICT: { status: 409, kind: 'user', description: 'resource is in a conflicting state' },
  CONFIG_INVALID: { status: 400, kind: 'user', description: 'configuration is invalid' },
  ARCHIVE_INVALID: { status: 400, kind: 'user', description: 'image archive or OCI layout is unreadable or invalid' },
  LAYER_INVALID: { status: 400, kind: 'user', description: 'layer is malformed or hostile' },
  LAYER_TOO_LARGE: { status: 413, kind: 'user', description: 'layer exceeds the unpack budget (bytes, entries or path length)' },
  IMAGE_INVALID: { status: 400, kind: 'user', description: 'image cannot be run: no manifest for this platform, not a container image, or an invalid config' },
  CERTIFICATE_INVALID: { status: 400, kind: 'user', description: 'a supplied TLS certificate or key is unreadable, does not match, does not cover the domain, or is expired' },
  REQUEST_TIMEOUT: { status: 408, kind: 'user', description: 'the client did not send a whole request head in time' },
  HEADERS_TOO_LARGE: { status: 431, kind: 'user', description: 'the request head is larger than the gateway accepts' },
  QUEUE_FULL: { status: 503, kind: 'system', description: 'every instance is at its concurrency limit and the request queue is full' },
  COLD_START_TIMEOUT: { status: 503, kind: 'system', description: 'no instance became ready before the request timed out' },
  REVISION_FAILED: { status: 503, kind: 'user', description: 'the revision cannot start: its instances exit, fail to start or never become ready (the message has the cause); it backs off before the next start' },
  JOB_FAILED: { status: 500, kind: 'user', description: 'a job execution failed or was cancelled: a task failed on every attempt (the message says which task and how its last attempt ended)' },
  SECRET_UNKNOWN: { status: 400, kind: 'user', description: 'a deploy names a secret, a version or a key of it that this tenant does not have (the message names the field and the flag)' },
  BUDGET_EXHAUSTED: { status: 402, kind: 'user', description: "a project's monthly budget is spent and its action is stop (or cap, with no instance left to serve): the gateway answers its services with this until the budget is raised or the month ends (the message names the project, the budget and what was spent)" },
  QUOTA_EXCEEDED: { status: 429, kind: 'user', description: 'a deploy, scale or new instance would take a project beyond its quota of instances, memory or CPU (the message names the quota, what is in use and the project)' },
  DEVICE_REFUSED: { status: 400, kind: 'user', description: 'a deploy names a device this node does not pass through: a host device outside runtime.deviceAllowList, missing or not a character or block device, or a CDI device no installed spec defines (the message names the flag and the device)' },
  FIELD_UNSUPPORTED: { status: 400, kind: 'user', description: 'a Knative Service (or another foreign file) uses a field Skiff cannot honour where ignoring it would change what the app does (the message names the field by its path)' },
  SECRET_UNREADABLE: { status: 500, kind: 'system', description: 'a stored secret version does not open with the node key: the key is not the one it was sealed with, or the record was altered' },
  UPSTREAM_TIMEOUT: { status: 504, kind: 'system', description: 'the instance did not answer within the service timeout' },
  UPSTREAM_FAILED: { status: 502, kind: 'system', description: 'the instance failed or closed the connection' },
  INSUFFICIENT_STORAGE: { status: 507, kind: 'system', description: 'the data directory is below its free-space floor (minFreeBytes): nothing more is written there' },
  VOLUME_FULL: { status: 507, kind: 'user', description: 'a volume has no room for what was written into it (an import larger than its size): ENOSPC inside the volume' },
  COMPOSE_INVALID: { status: 400, kind: 'user', description: 'a Compose file is not valid: it does not match the Compose specification\'s schema, an interpolation is malformed or a required variable is missing, or depends_on has a cycle (the message names the path)' },
  COMPOSE_UNSUPPORTED: { status: 400, kind: 'user', description: 'a Compose file uses something Skiff cannot honour without changing what the app does (a bind mount, host networking, an anonymous volume, a build without a local builder…): the message names the service and the path' },
  BUILD_FAILED: { status: 400, kind: 'user', description: 'a local image build (docker, podman or buildah, for a Compose build:) failed: the message names the service and has the builder\'s last output' },
  PREFLIGHT_FAILED: { status: 500, kind: 'system', description: 'a system requirement is missing' },
  UNAVAILABLE: { status: 503, kind: 'system', description: 'service is shutting down or unavailable' },
  INTERNAL: { status: 500, kind: 'system', description: 'internal error' },
} as const satisfies Record<string, ErrorSpec>;

export type ErrorCode = keyof typeof ERROR_CATALOGUE;

export class SkiffError extends Error {
  readonly code: ErrorCode;
  readonly detail: unknown;
  constructor(code: ErrorCode, message?: string, options?: { detail?: unknown; cause?: unknown }) {
    super(message ?? ERROR_CATALOGUE[code].description, { cause: options?.cause });
    this.name = 'SkiffError';
    this.code = code;
    this.detail = options?.detail;
  }
  get status(): number {
    return ERROR_CATALOGUE[this.code].status;
  }
  get kind(): 'user' | 'system' {
    return ERROR_CATALOGUE[this.code].kind;
  }
}

/** Any thrown value as a SkiffError; unknown failures become INTERNAL with the original as cause. */
export function asSkiffError(err: unknown): SkiffError {
  if (err instanceof SkiffError) return err;
  return new SkiffError('INTERNAL', 'internal error', { cause: err });
}
