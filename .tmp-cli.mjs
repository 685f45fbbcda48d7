// src/cli/main.ts
import { Command, Option as Option3 } from "commander";

// src/cli/context.ts
import { readFileSync } from "node:fs";
import path from "node:path";

// src/core/errors.ts
var ERROR_CATALOGUE = {
  // OCI distribution-spec codes (used verbatim on /v2)
  BLOB_UNKNOWN: { status: 404, kind: "user", description: "blob unknown to registry" },
  BLOB_UPLOAD_INVALID: { status: 400, kind: "user", description: "blob upload invalid" },
  BLOB_UPLOAD_UNKNOWN: { status: 404, kind: "user", description: "blob upload unknown to registry" },
  DIGEST_INVALID: { status: 400, kind: "user", description: "provided digest did not match uploaded content" },
  MANIFEST_BLOB_UNKNOWN: { status: 404, kind: "user", description: "manifest references a manifest or blob unknown to registry" },
  MANIFEST_INVALID: { status: 400, kind: "user", description: "manifest invalid" },
  MANIFEST_UNKNOWN: { status: 404, kind: "user", description: "manifest unknown to registry" },
  NAME_INVALID: { status: 400, kind: "user", description: "invalid repository name" },
  NAME_UNKNOWN: { status: 404, kind: "user", description: "repository name not known to registry" },
  SIZE_INVALID: { status: 400, kind: "user", description: "provided length did not match content length" },
  UNAUTHORIZED: { status: 401, kind: "user", description: "authentication required" },
  DENIED: { status: 403, kind: "user", description: "requested access to the resource is denied" },
  UNSUPPORTED: { status: 405, kind: "user", description: "the operation is unsupported" },
  TOOMANYREQUESTS: { status: 429, kind: "user", description: "too many requests" },
  // Skiff's own codes
  RANGE_INVALID: { status: 416, kind: "user", description: "requested range or upload chunk is out of order or not satisfiable" },
  PAYLOAD_TOO_LARGE: { status: 413, kind: "user", description: "request body exceeds the allowed size" },
  TAG_INVALID: { status: 400, kind: "user", description: "invalid tag" },
  BAD_REQUEST: { status: 400, kind: "user", description: "request is malformed" },
  NOT_FOUND: { status: 404, kind: "user", description: "no such resource" },
  CONFLICT: { status: 409, kind: "user", description: "resource is in a conflicting state" },
  CONFIG_INVALID: { status: 400, kind: "user", description: "configuration is invalid" },
  ARCHIVE_INVALID: { status: 400, kind: "user", description: "image archive or OCI layout is unreadable or invalid" },
  LAYER_INVALID: { status: 400, kind: "user", description: "layer is malformed or hostile" },
  LAYER_TOO_LARGE: { status: 413, kind: "user", description: "layer exceeds the unpack budget (bytes, entries or path length)" },
  IMAGE_INVALID: { status: 400, kind: "user", description: "image cannot be run: no manifest for this platform, not a container image, or an invalid config" },
  REQUEST_TIMEOUT: { status: 408, kind: "user", description: "the client did not send a whole request head in time" },
  HEADERS_TOO_LARGE: { status: 431, kind: "user", description: "the request head is larger than the gateway accepts" },
  QUEUE_FULL: { status: 503, kind: "system", description: "every instance is at its concurrency limit and the request queue is full" },
  COLD_START_TIMEOUT: { status: 503, kind: "system", description: "no instance became ready before the request timed out" },
  UPSTREAM_TIMEOUT: { status: 504, kind: "system", description: "the instance did not answer within the service timeout" },
  UPSTREAM_FAILED: { status: 502, kind: "system", description: "the instance failed or closed the connection" },
  INSUFFICIENT_STORAGE: { status: 507, kind: "system", description: "the data directory is below its free-space floor (minFreeBytes): nothing more is written there" },
  PREFLIGHT_FAILED: { status: 500, kind: "system", description: "a system requirement is missing" },
  UNAVAILABLE: { status: 503, kind: "system", description: "service is shutting down or unavailable" },
  INTERNAL: { status: 500, kind: "system", description: "internal error" }
};
var SkiffError = class extends Error {
  code;
  detail;
  constructor(code, message, options) {
    super(message ?? ERROR_CATALOGUE[code].description, { cause: options?.cause });
    this.name = "SkiffError";
    this.code = code;
    this.detail = options?.detail;
  }
  get status() {
    return ERROR_CATALOGUE[this.code].status;
  }
  get kind() {
    return ERROR_CATALOGUE[this.code].kind;
  }
};

// src/api/client.ts
var SkiffClient = class {
  constructor(options) {
    this.options = options;
  }
  options;
  get authHeader() {
    return `Bearer ${this.options.token}`;
  }
  async request(method, path6, body) {
    let res;
    try {
      res = await fetch(new URL(path6, this.options.baseUrl), {
        method,
        headers: { authorization: this.authHeader, ...body === void 0 ? {} : { "content-type": "application/json" } },
        body: body === void 0 ? void 0 : JSON.stringify(body)
      });
    } catch (err) {
      throw new SkiffError("UNAVAILABLE", `cannot reach the Skiff API at ${this.options.baseUrl}: ${err.cause ?? err.message}`);
    }
    const text = await res.text();
    if (!res.ok) throw errorFromBody(res.status, text);
    return text ? JSON.parse(text) : void 0;
  }
  health() {
    return this.request("GET", "/api/v1/health");
  }
  gc() {
    return this.request("POST", "/api/v1/registry/gc");
  }
  createToken(name, role, tenant) {
    return this.request("POST", "/api/v1/tokens", { name, role, ...tenant ? { tenant } : {} });
  }
  listTokens() {
    return this.request("GET", "/api/v1/tokens");
  }
  revokeToken(id) {
    return this.request("DELETE", `/api/v1/tokens/${encodeURIComponent(id)}`);
  }
  deploy(doc) {
    return this.request("POST", "/api/v1/services", doc);
  }
  listServices() {
    return this.request("GET", "/api/v1/services");
  }
  service(name) {
    return this.request("GET", `/api/v1/services/${encodeURIComponent(name)}`);
  }
  deleteService(name) {
    return this.request("DELETE", `/api/v1/services/${encodeURIComponent(name)}`);
  }
  setTraffic(name, traffic) {
    return this.request("PUT", `/api/v1/services/${encodeURIComponent(name)}/traffic`, { traffic });
  }
  rollback(name) {
    return this.request("POST", `/api/v1/services/${encodeURIComponent(name)}/rollback`);
  }
  scale(name, bounds) {
    return this.request("PATCH", `/api/v1/services/${encodeURIComponent(name)}/scaling`, bounds);
  }
  prewarm(name, opts) {
    return this.request("POST", `/api/v1/services/${encodeURIComponent(name)}/prewarm`, opts);
  }
  /** Streams log lines; resolves when the server ends the stream (never, with follow, until aborted). */
  async logs(name, opts, onChunk) {
    const q = new URLSearchParams();
    if (opts.revision) q.set("revision", opts.revision);
    if (opts.tail !== void 0) q.set("tail", String(opts.tail));
    if (opts.follow) q.set("follow", "true");
    const res = await fetch(new URL(`/api/v1/services/${encodeURIComponent(name)}/logs?${q}`, this.options.baseUrl), {
      headers: { authorization: this.authHeader },
      signal: opts.signal
    }).catch((err) => {
      throw new SkiffError("UNAVAILABLE", `cannot reach the Skiff API at ${this.options.baseUrl}: ${err.message}`);
    });
    if (!res.ok) throw errorFromBody(res.status, await res.text());
    const decoder = new TextDecoder();
    for await (const chunk of res.body) onChunk(decoder.decode(chunk, { stream: true }));
  }
  /** Runs a one-off container: `onOutput` gets its output as it comes; resolves with how it ended (after
   *  the daemon removed it). Aborting `signal` makes the daemon kill and remove it. */
  async run(req, onOutput, signal) {
    const res = await fetch(new URL("/api/v1/runs", this.options.baseUrl), {
      method: "POST",
      headers: { authorization: this.authHeader, "content-type": "application/json" },
      body: JSON.stringify(req),
      signal
    }).catch((err) => {
      if (signal?.aborted) throw err;
      throw new SkiffError("UNAVAILABLE", `cannot reach the Skiff API at ${this.options.baseUrl}: ${err.message}`);
    });
    if (!res.ok) throw errorFromBody(res.status, await res.text());
    const decoder = new TextDecoder();
    let pending = "";
    for await (const chunk of res.body) {
      const lines = (pending + decoder.decode(chunk, { stream: true })).split("\n");
      pending = lines.pop();
      for (const line2 of lines) {
        if (!line2) continue;
        const event = JSON.parse(line2);
        if ("exit" in event) return event.exit;
        onOutput(event);
      }
    }
    throw new SkiffError("UNAVAILABLE", "the run ended without an exit status (did the daemon stop?)");
  }
};
function errorFromBody(status, text) {
  let code;
  let message = text.slice(0, 500);
  try {
    const body = JSON.parse(text);
    const e = body.error ?? body.errors?.[0];
    if (e) ({ code, message } = e);
  } catch {
  }
  const known = code !== void 0 && code in ERROR_CATALOGUE ? code : status === 401 ? "UNAUTHORIZED" : "INTERNAL";
  return new SkiffError(known, message || `HTTP ${status}`);
}

// src/core/data-dir.ts
var DEFAULT_DATA_DIR = "/var/lib/skiff";
var ADMIN_TOKEN_FILE = "admin.token";

// src/cli/context.ts
function clientFrom(program2) {
  const { api, dataDir } = program2.opts();
  return new SkiffClient({ baseUrl: api, token: findToken(dataDir) });
}
function findToken(dataDir) {
  if (process.env.SKIFF_TOKEN) return process.env.SKIFF_TOKEN;
  const file = path.join(dataDir ?? DEFAULT_DATA_DIR, ADMIN_TOKEN_FILE);
  try {
    return readFileSync(file, "utf8").trim();
  } catch {
    throw new SkiffError("UNAUTHORIZED", `no token: set SKIFF_TOKEN or run where ${file} is readable (pass --data-dir)`);
  }
}

// src/cli/gc.ts
function registerGc(program2) {
  program2.command("gc").description("delete registry blobs no manifest refers to (safe while pushes run)").action(async () => {
    const r = await clientFrom(program2).gc();
    process.stdout.write(
      `deleted ${r.blobsDeleted} blobs and ${r.orphanFilesDeleted} orphan files, freed ${(r.bytesFreed / 1048576).toFixed(1)} MiB, expired ${r.uploadsExpired} uploads
`
    );
  });
}

// src/cli/push.ts
import { Option } from "commander";

// src/core/digest.ts
var ENCODED_LENGTH = { sha256: 64, sha512: 128 };
var DIGEST_RE = /^([a-z0-9]+(?:[.+_-][a-z0-9]+)*):([a-zA-Z0-9=_-]+)$/;
function parseDigest(value) {
  const m = DIGEST_RE.exec(value);
  if (!m) throw new SkiffError("DIGEST_INVALID", `invalid digest ${JSON.stringify(value.slice(0, 200))}`);
  const algorithm = m[1];
  const hex = m[2];
  const length = ENCODED_LENGTH[algorithm];
  if (length === void 0) throw new SkiffError("UNSUPPORTED", `digest algorithm ${algorithm} is not supported`);
  if (hex.length !== length || !/^[a-f0-9]+$/.test(hex)) {
    throw new SkiffError("DIGEST_INVALID", `invalid ${algorithm} digest ${JSON.stringify(value.slice(0, 200))}`);
  }
  return { algorithm, hex, digest: value };
}

// src/core/names.ts
var REPO_COMPONENT = /^[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*$/;
var TAG_RE = /^[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}$/;
var MAX_REPOSITORY_NAME = 255;
function isRepositoryName(name) {
  if (name.length === 0 || name.length > MAX_REPOSITORY_NAME) return false;
  return name.split("/").every((c) => REPO_COMPONENT.test(c));
}
function assertRepositoryName(name) {
  if (!isRepositoryName(name)) throw new SkiffError("NAME_INVALID", `invalid repository name ${JSON.stringify(name.slice(0, 300))}`);
  return name;
}
function isTag(tag) {
  return TAG_RE.test(tag);
}

// src/cli/push/source.ts
import { createReadStream } from "node:fs";
import { stat } from "node:fs/promises";
import path3 from "node:path";
import { Readable } from "node:stream";

// src/cli/push/tar-index.ts
import { open } from "node:fs/promises";
import path2 from "node:path";
var BLOCK = 512;
function invalid(file, why) {
  return new SkiffError("ARCHIVE_INVALID", `${file}: ${why}`);
}
function archivePath(file, name) {
  if (name.startsWith("/") || name.includes("\0")) throw invalid(file, `entry ${JSON.stringify(name)} has an absolute path`);
  const norm = path2.posix.normalize(name).replace(/\/+$/, "");
  if (norm === ".." || norm.startsWith("../")) throw invalid(file, `entry ${JSON.stringify(name)} escapes the archive`);
  return norm === "." || norm === "" ? void 0 : norm;
}
function field(h, start, len) {
  const raw = h.subarray(start, start + len);
  const nul = raw.indexOf(0);
  return raw.subarray(0, nul === -1 ? len : nul).toString("utf8");
}
function numeric(h, start, len) {
  if (h[start] & 128) {
    let n = h[start] & 127;
    for (let i = 1; i < len; i++) n = n * 256 + h[start + i];
    return n;
  }
  const s = field(h, start, len).trim();
  return s === "" ? 0 : parseInt(s, 8);
}
function checksumOk(h) {
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 32 : h[i];
  return sum === numeric(h, 148, 8);
}
function paxRecords(data) {
  const out = {};
  let i = 0;
  while (i < data.length) {
    const space = data.indexOf(32, i);
    const len = parseInt(data.subarray(i, space).toString(), 10);
    if (space === -1 || !(len > 0)) break;
    const rec = data.subarray(space + 1, i + len - 1).toString("utf8");
    const eq = rec.indexOf("=");
    out[rec.slice(0, eq)] = rec.slice(eq + 1);
    i += len;
  }
  return out;
}
async function indexTar(file) {
  const fh = await open(file, "r").catch((err) => {
    throw invalid(file, `cannot open: ${err.message}`);
  });
  try {
    const { size: total } = await fh.stat();
    const entries = /* @__PURE__ */ new Map();
    const h = Buffer.alloc(BLOCK);
    let offset = 0;
    let pending = {};
    const readData = async (at, len) => {
      if (len > 1 << 20) throw invalid(file, "tar metadata record is too large");
      const b = Buffer.alloc(len);
      await fh.read(b, 0, len, at);
      return b;
    };
    while (offset + BLOCK <= total) {
      await fh.read(h, 0, BLOCK, offset);
      if (h.every((b) => b === 0)) break;
      if (!checksumOk(h)) throw invalid(file, offset === 0 ? "not a tar archive" : `corrupt tar header at byte ${offset}`);
      const type = String.fromCharCode(h[156]);
      const size = pending.size !== void 0 ? Number(pending.size) : numeric(h, 124, 12);
      const dataAt = offset + BLOCK;
      if (dataAt + size > total) throw invalid(file, "archive is truncated");
      offset = dataAt + Math.ceil(size / BLOCK) * BLOCK;
      if (type === "x") pending = { ...pending, ...paxRecords(await readData(dataAt, size)) };
      else if (type === "L") pending.path = field(await readData(dataAt, size), 0, size);
      else if (type === "K") pending.linkpath = field(await readData(dataAt, size), 0, size);
      else if (type !== "g") {
        const prefix = field(h, 345, 155);
        const raw = pending.path ?? (prefix ? `${prefix}/${field(h, 0, 100)}` : field(h, 0, 100));
        const link = pending.linkpath ?? field(h, 157, 100);
        pending = {};
        const name = archivePath(file, raw);
        if (name === void 0) continue;
        if (type === "0" || type === "\0" || type === "7") entries.set(name, { type: "file", offset: dataAt, size });
        else if (type === "2") entries.set(name, { type: "symlink", target: link });
        else if (type === "1") entries.set(name, { type: "hardlink", target: link });
        else entries.set(name, { type: "other" });
      }
    }
    return entries;
  } finally {
    await fh.close();
  }
}
function resolveEntry(file, entries, name) {
  let current = name;
  for (let hops = 0; hops < 16; hops++) {
    const e = entries.get(current);
    if (!e || e.type === "other") return void 0;
    if (e.type === "file") return e;
    if (e.target.startsWith("/")) throw invalid(file, `link ${current} points outside the archive (${e.target})`);
    const joined = e.type === "symlink" ? path2.posix.join(path2.posix.dirname(current), e.target) : e.target;
    const next = archivePath(file, joined);
    if (next === void 0) return void 0;
    current = next;
  }
  throw invalid(file, `too many links resolving ${name}`);
}

// src/cli/push/source.ts
async function openSource(input) {
  const st = await stat(input).catch((err) => {
    throw new SkiffError("ARCHIVE_INVALID", `${input}: cannot read: ${err.message}`);
  });
  return st.isDirectory() ? directorySource(input) : tarSource(input);
}
function directorySource(dir) {
  return {
    label: dir,
    async find(name) {
      const rel = archivePath(dir, name);
      if (rel === void 0) return void 0;
      const file = path3.join(dir, rel);
      const st = await stat(file).catch(() => void 0);
      if (!st?.isFile()) return void 0;
      return { name: rel, size: st.size, open: (start, end) => createReadStream(file, { start, end }) };
    }
  };
}
async function tarSource(file) {
  const entries = await indexTar(file);
  return {
    label: file,
    async find(name) {
      const rel = archivePath(file, name);
      const e = rel === void 0 ? void 0 : resolveEntry(file, entries, rel);
      if (!e || rel === void 0) return void 0;
      const open2 = (start = 0, end = e.size - 1) => e.size === 0 ? Readable.from([]) : createReadStream(file, { start: e.offset + start, end: e.offset + end });
      return { name: rel, size: e.size, open: open2 };
    }
  };
}
async function readSmall(src, f, max = 8 << 20) {
  if (f.size > max) throw new SkiffError("ARCHIVE_INVALID", `${src.label}: ${f.name} is ${f.size} bytes, too large for metadata`);
  if (f.size === 0) return Buffer.alloc(0);
  const chunks = [];
  for await (const c of f.open()) chunks.push(c);
  return Buffer.concat(chunks);
}
async function mustFind(src, name) {
  const f = await src.find(name);
  if (!f) throw new SkiffError("ARCHIVE_INVALID", `${src.label}: ${name} is missing`);
  return f;
}
async function readJson(src, name) {
  const bytes = await readSmall(src, await mustFind(src, name));
  try {
    return { bytes, json: JSON.parse(bytes.toString("utf8")) };
  } catch {
    throw new SkiffError("ARCHIVE_INVALID", `${src.label}: ${name} is not valid JSON`);
  }
}

// src/cli/push/plan.ts
import { createHash } from "node:crypto";
function sha256(bytes) {
  return `sha256:${createHash("sha256").update(bytes).digest("hex")}`;
}
function addBlob(plan, blob) {
  if (!plan.blobs.some((b) => b.digest === blob.digest)) plan.blobs.push(blob);
}
function archiveError(src, why) {
  return new SkiffError("ARCHIVE_INVALID", `${src.label}: ${why}`);
}

// src/cli/push/oci-layout.ts
var REF_NAME = "org.opencontainers.image.ref.name";
var CONTAINERD_NAME = "io.containerd.image.name";
var INDEX_TYPES = /* @__PURE__ */ new Set(["application/vnd.oci.image.index.v1+json", "application/vnd.docker.distribution.manifest.list.v2+json"]);
async function planOciLayout(src, ref) {
  const { json: index } = await readJson(src, "index.json");
  const all = Array.isArray(index.manifests) ? index.manifests : [];
  const refOf = (d) => d.annotations?.[REF_NAME] ?? d.annotations?.[CONTAINERD_NAME];
  const chosen = ref === void 0 ? all : all.filter((d) => d.annotations?.[REF_NAME] === ref || d.annotations?.[CONTAINERD_NAME] === ref);
  if (chosen.length !== 1) {
    const names = all.map((d) => refOf(d) ?? d.digest).join(", ") || "none";
    const why = ref === void 0 ? `holds ${all.length} images (${names}); choose one with --ref` : `has no image named ${ref} (it has: ${names})`;
    throw archiveError(src, `index.json ${why}`);
  }
  const plan = { blobs: [], manifests: [] };
  await addManifest(src, plan, chosen[0], 0);
  return plan;
}
async function readBlob(src, d, what) {
  if (typeof d?.digest !== "string" || !Number.isSafeInteger(d.size)) throw archiveError(src, `${what} has an invalid descriptor`);
  let algorithm, hex;
  try {
    ({ algorithm, hex } = parseDigest(d.digest));
  } catch {
    throw archiveError(src, `${what} has an invalid digest ${JSON.stringify(d.digest)}`);
  }
  const file = await mustFind(src, `blobs/${algorithm}/${hex}`);
  if (file.size !== d.size) throw archiveError(src, `${file.name} is ${file.size} bytes but ${what} says ${d.size}`);
  return file;
}
async function addManifest(src, plan, d, depth) {
  if (depth > 2) throw archiveError(src, "image indexes are nested too deeply");
  const file = await readBlob(src, d, `manifest ${d.digest}`);
  const bytes = await readSmall(src, file);
  if (sha256(bytes) !== d.digest) throw archiveError(src, `${file.name} does not match its digest`);
  let doc;
  try {
    doc = JSON.parse(bytes.toString("utf8"));
  } catch {
    throw archiveError(src, `${file.name} is not valid JSON`);
  }
  const mediaType = doc.mediaType ?? d.mediaType ?? (Array.isArray(doc.manifests) ? "application/vnd.oci.image.index.v1+json" : "application/vnd.oci.image.manifest.v1+json");
  if (INDEX_TYPES.has(mediaType)) {
    for (const child of doc.manifests ?? []) await addManifest(src, plan, child, depth + 1);
  } else {
    if (!doc.config || !Array.isArray(doc.layers)) throw archiveError(src, `${file.name} is not an image manifest`);
    const config = doc.config;
    addBlob(plan, { digest: config.digest, size: config.size, kind: "config", file: await readBlob(src, config, "config"), label: src.label });
    for (const [i, l] of doc.layers.entries()) {
      addBlob(plan, { digest: l.digest, size: l.size, kind: "layer", file: await readBlob(src, l, `layer ${i}`), label: src.label });
    }
  }
  plan.manifests.push({ digest: d.digest, mediaType, bytes });
}

// src/cli/push/docker-archive.ts
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path5 from "node:path";
import { createHash as createHash3 } from "node:crypto";

// src/cli/push/gzip-layer.ts
import { createReadStream as createReadStream2, createWriteStream } from "node:fs";
import { createHash as createHash2 } from "node:crypto";
import path4 from "node:path";
import { Transform } from "node:stream";
import { pipeline } from "node:stream/promises";
import { constants, createGzip } from "node:zlib";
function hashing(hash) {
  return new Transform({
    transform(chunk, _enc, done) {
      hash.update(chunk);
      done(null, chunk);
    }
  });
}
async function gzipLayer(src, layer, diffId, tmpDir, index) {
  const out = path4.join(tmpDir, `layer-${index}.tar.gz`);
  const raw = createHash2("sha256");
  const packed = createHash2("sha256");
  const counter = hashing(packed);
  let size = 0;
  counter.on("data", (c) => size += c.length);
  await pipeline(layer.open(), hashing(raw), createGzip({ level: constants.Z_BEST_SPEED }), counter, createWriteStream(out, { flags: "wx", mode: 384 }));
  const rawDigest = `sha256:${raw.digest("hex")}`;
  if (diffId !== void 0 && diffId !== rawDigest) {
    throw new SkiffError("ARCHIVE_INVALID", `${src.label}: ${layer.name} does not match diff_id ${diffId} in the image config (it is ${rawDigest})`);
  }
  return {
    digest: `sha256:${packed.digest("hex")}`,
    file: { name: `${layer.name} (gzipped)`, size, open: (start, end) => createReadStream2(out, { start, end }) }
  };
}

// src/cli/push/bounded.ts
async function runBounded(items, limit, fn) {
  let next = 0;
  let failed = false;
  const worker = async () => {
    while (!failed && next < items.length) {
      const item = items[next++];
      await fn(item).catch((err) => {
        failed = true;
        throw err;
      });
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

// src/cli/push/docker-archive.ts
var LAYER_TYPES = { gzip: "application/vnd.oci.image.layer.v1.tar+gzip", zstd: "application/vnd.oci.image.layer.v1.tar+zstd" };
async function planDockerArchive(src, ref) {
  const { json } = await readJson(src, "manifest.json");
  const all = Array.isArray(json) ? json : [];
  const chosen = ref === void 0 ? all : all.filter((e) => e.RepoTags?.includes(ref));
  if (chosen.length !== 1) {
    const names = all.map((e) => e.RepoTags?.join(" ") || e.Config).join(", ") || "none";
    const why = ref === void 0 ? `holds ${all.length} images (${names}); choose one with --ref` : `has no image tagged ${ref} (it has: ${names})`;
    throw archiveError(src, `manifest.json ${why}`);
  }
  const entry = chosen[0];
  if (typeof entry.Config !== "string" || !Array.isArray(entry.Layers)) throw archiveError(src, "manifest.json entry lacks Config or Layers");
  const { bytes: configBytes, json: config } = await readJson(src, entry.Config);
  const configFile = await mustFind(src, entry.Config);
  const layerFiles = await Promise.all(entry.Layers.map((name) => mustFind(src, name)));
  const tmpDir = await mkdtemp(path5.join(os.tmpdir(), "skiff-push-"));
  const dispose = () => rm(tmpDir, { recursive: true, force: true });
  try {
    const layers = [];
    await runBounded([...layerFiles.keys()], 2, async (i) => {
      const file = layerFiles[i];
      const compression = await sniffCompression(file);
      if (compression !== "none") {
        layers[i] = { mediaType: LAYER_TYPES[compression], digest: await hashFile(file), size: file.size, file };
        return;
      }
      const diffId = config.rootfs?.diff_ids?.[i];
      const gz = await gzipLayer(src, file, typeof diffId === "string" ? diffId : void 0, tmpDir, i);
      layers[i] = { mediaType: LAYER_TYPES.gzip, digest: gz.digest, size: gz.file.size, file: gz.file };
    });
    const plan = { blobs: [], manifests: [], dispose };
    addBlob(plan, { digest: sha256(configBytes), size: configBytes.length, kind: "config", file: configFile, label: src.label });
    for (const l of layers) addBlob(plan, { digest: l.digest, size: l.size, kind: "layer", file: l.file, label: src.label });
    const manifest = {
      schemaVersion: 2,
      mediaType: "application/vnd.oci.image.manifest.v1+json",
      config: { mediaType: "application/vnd.oci.image.config.v1+json", digest: sha256(configBytes), size: configBytes.length },
      layers: layers.map(({ mediaType, digest, size }) => ({ mediaType, digest, size }))
    };
    const bytes = Buffer.from(JSON.stringify(manifest));
    plan.manifests.push({ digest: sha256(bytes), mediaType: manifest.mediaType, bytes });
    return plan;
  } catch (err) {
    await dispose();
    throw err;
  }
}
async function sniffCompression(file) {
  if (file.size < 4) return "none";
  const head = [];
  for await (const c of file.open(0, 3)) head.push(c);
  const b = Buffer.concat(head);
  if (b[0] === 31 && b[1] === 139) return "gzip";
  if (b.readUInt32LE(0) === 4247762216) return "zstd";
  return "none";
}
async function hashFile(file) {
  const h = createHash3("sha256");
  for await (const c of file.open()) h.update(c);
  return `sha256:${h.digest("hex")}`;
}

// src/cli/push/planner.ts
async function planPush(input, ref) {
  const src = await openSource(input);
  if (await src.find("oci-layout") && await src.find("index.json")) return planOciLayout(src, ref);
  if (await src.find("manifest.json")) return planDockerArchive(src, ref);
  throw new SkiffError(
    "ARCHIVE_INVALID",
    `${input}: neither an OCI image layout (oci-layout, index.json) nor a docker archive (manifest.json)`
  );
}

// src/cli/push/uploader.ts
import { createHash as createHash4 } from "node:crypto";
import { Transform as Transform2 } from "node:stream";
import { pipeline as pipeline3 } from "node:stream/promises";

// src/cli/push/registry-http.ts
import http from "node:http";
import https from "node:https";
import { pipeline as pipeline2 } from "node:stream/promises";
async function send(client, method, pathOrUrl, headers = {}, body) {
  const url = new URL(pathOrUrl, client.options.baseUrl);
  const lib = url.protocol === "https:" ? https : http;
  return new Promise((resolve, reject) => {
    const req = lib.request(url, { method, headers: { authorization: client.authHeader, ...headers } });
    req.on("error", (err) => reject(new SkiffError("UNAVAILABLE", `${method} ${url.origin}${url.pathname} failed: ${err.message}`)));
    req.on("response", (res) => {
      const chunks = [];
      res.on("data", (c) => chunks.push(c));
      res.on("error", reject);
      res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text: Buffer.concat(chunks).toString("utf8") }));
    });
    if (body === void 0 || Buffer.isBuffer(body)) req.end(body);
    else pipeline2(body, req).catch((err) => req.destroy(err));
  });
}
function expectStatus(res, ...ok) {
  if (!ok.includes(res.status)) throw errorFromBody(res.status, res.text);
  return res;
}

// src/cli/push/uploader.ts
var DEFAULT_CHUNK_SIZE = 64 << 20;
async function pushImage(client, repo, tag, plan, opts = {}) {
  const ev = opts.events ?? {};
  const chunkSize = opts.chunkSize ?? DEFAULT_CHUNK_SIZE;
  let skipped = 0;
  let bytesUploaded = 0;
  await runBounded(plan.blobs, opts.concurrency ?? 3, async (blob) => {
    ev.blobStart?.(blob);
    const head = await send(client, "HEAD", `/v2/${repo}/blobs/${blob.digest}`);
    if (head.status === 200) {
      if (blob.kind === "layer") skipped++;
      ev.blobDone?.(blob, "exists");
      return;
    }
    if (head.status !== 404) expectStatus(head, 200);
    await uploadBlob(client, repo, blob, chunkSize, (n) => ev.blobProgress?.(blob, n));
    bytesUploaded += blob.size;
    ev.blobDone?.(blob, "pushed");
  });
  for (const [i, m] of plan.manifests.entries()) {
    const reference = i === plan.manifests.length - 1 ? tag : m.digest;
    const res = await send(client, "PUT", `/v2/${repo}/manifests/${reference}`, { "content-type": m.mediaType, "content-length": m.bytes.length }, m.bytes);
    expectStatus(res, 201);
  }
  return { digest: plan.manifests.at(-1).digest, layers: plan.blobs.filter((b) => b.kind === "layer").length, skipped, bytesUploaded };
}
async function uploadBlob(client, repo, blob, chunkSize, progress) {
  const hash = createHash4(parseDigest(blob.digest).algorithm);
  let sent = 0;
  const metered = (source) => {
    const meter = new Transform2({
      transform(chunk, _enc, done) {
        hash.update(chunk);
        sent += chunk.length;
        progress(sent);
        done(null, chunk);
      }
    });
    pipeline3(source, meter).catch((err) => meter.destroy(err));
    return meter;
  };
  const octets = { "content-type": "application/octet-stream" };
  let location = locationOf(expectStatus(await send(client, "POST", `/v2/${repo}/blobs/uploads/`, { "content-length": 0 }), 202).headers.location);
  const monolithic = blob.size <= chunkSize;
  if (!monolithic) {
    for (let start = 0; start < blob.size; start += chunkSize) {
      const end = Math.min(start + chunkSize, blob.size) - 1;
      const headers = { ...octets, "content-length": end - start + 1, "content-range": `${start}-${end}` };
      const res2 = await send(client, "PATCH", location, headers, metered(blob.file.open(start, end)));
      location = locationOf(expectStatus(res2, 202).headers.location);
    }
  }
  const url = new URL(location, client.options.baseUrl);
  url.searchParams.set("digest", blob.digest);
  const body = monolithic && blob.size > 0 ? metered(blob.file.open()) : void 0;
  const res = await send(client, "PUT", url.href, { ...octets, "content-length": monolithic ? blob.size : 0 }, body);
  if (blob.size > 0) checkDigest(hash, blob, sent);
  expectStatus(res, 201);
}
function checkDigest(hash, blob, sent) {
  const actual = `${parseDigest(blob.digest).algorithm}:${hash.digest("hex")}`;
  if (sent !== blob.size || actual !== blob.digest) {
    throw new SkiffError("ARCHIVE_INVALID", `${blob.label}: ${blob.file.name} does not match its digest ${blob.digest} (read ${sent} bytes, got ${actual})`);
  }
}
function locationOf(value) {
  const v = Array.isArray(value) ? value[0] : value;
  if (!v) throw new SkiffError("BLOB_UPLOAD_INVALID", "the registry did not return an upload Location");
  return v;
}

// src/cli/push/progress.ts
import cliProgress from "cli-progress";
function mb(bytes) {
  return `${(bytes / 1e6).toFixed(1)} MB`;
}
var short = (blob) => blob.digest.replace(/^sha256:/, "").slice(0, 12);
function pushProgress(out) {
  const isLayer = (b) => b.kind === "layer";
  if (!out.isTTY) {
    return {
      events: { blobDone: (b, result) => isLayer(b) && out.write(`layer ${short(b)}  ${mb(b.size).padStart(10)}  ${result}
`) },
      stop() {
      }
    };
  }
  const multi = new cliProgress.MultiBar(
    { stream: out, format: "{name} [{bar}] {sent}/{size} {state}", hideCursor: true, clearOnComplete: false, autopadding: true },
    cliProgress.Presets.shades_classic
  );
  const bars = /* @__PURE__ */ new Map();
  const bar = (b) => {
    let found = bars.get(b.digest);
    if (!found) {
      found = multi.create(Math.max(b.size, 1), 0, { name: short(b), sent: mb(0), size: mb(b.size), state: "waiting" });
      bars.set(b.digest, found);
    }
    return found;
  };
  return {
    events: {
      blobStart: (b) => isLayer(b) && bar(b).update(0, { state: "checking" }),
      blobProgress: (b, sent) => isLayer(b) && bar(b).update(sent, { sent: mb(sent), state: "uploading" }),
      blobDone: (b, result) => isLayer(b) && bar(b).update(Math.max(b.size, 1), { sent: mb(result === "exists" ? 0 : b.size), state: result })
    },
    stop: () => multi.stop()
  };
}

// src/cli/push.ts
function parseTarget(target) {
  const colon = target.lastIndexOf(":");
  const hasTag = colon > target.lastIndexOf("/");
  const repo = hasTag ? target.slice(0, colon) : target;
  const tag = hasTag ? target.slice(colon + 1) : "latest";
  assertRepositoryName(repo);
  if (!isTag(tag)) throw new SkiffError("TAG_INVALID", `invalid tag ${JSON.stringify(tag.slice(0, 200))}`);
  return { repo, tag };
}
function registerPush(program2) {
  program2.command("push <input> <target>").description("push a docker archive (docker/podman save, skopeo docker-archive:), OCI layout directory or OCI layout tar as REPO:TAG").option("--ref <name>", "image to push when the input holds several (OCI ref name annotation, or a docker archive RepoTag)").addOption(new Option("--chunk-size <bytes>", "upload blobs larger than this in PATCH chunks of this size").default(DEFAULT_CHUNK_SIZE).argParser(positiveInt)).action(async (input, target, opts) => {
    const { repo, tag } = parseTarget(target);
    const client = clientFrom(program2);
    const started = performance.now();
    const plan = await planPush(input, opts.ref);
    const progress = pushProgress(process.stdout);
    const result = await pushImage(client, repo, tag, plan, { chunkSize: opts.chunkSize, events: progress.events }).finally(async () => {
      progress.stop();
      await plan.dispose?.();
    });
    const seconds = ((performance.now() - started) / 1e3).toFixed(1);
    process.stdout.write(
      `pushed ${repo}:${tag} digest ${result.digest} (${result.layers} layers, ${result.skipped} skipped, ${mb(result.bytesUploaded)} in ${seconds} s)
`
    );
  });
}
function positiveInt(value) {
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < 1) throw new SkiffError("BAD_REQUEST", `--chunk-size must be a positive integer, got ${value}`);
  return n;
}

// src/cli/token.ts
import { Option as Option2 } from "commander";

// src/core/auth.ts
var TOKEN_ROLES = ["admin", "deploy", "push", "pull"];
var PULL = ["images:pull"];
var PUSH = [...PULL, "images:push"];
var DEPLOY = [...PUSH, "services:read", "services:write", "runs:create"];
var ADMIN = [...DEPLOY, "tokens:manage", "registry:gc"];

// src/cli/token.ts
function registerToken(program2) {
  const token = program2.command("token").description("manage API tokens");
  token.command("create <name>").description("create a token and print its secret (shown once)").addOption(new Option2("--role <role>", "what the token may do").choices(TOKEN_ROLES).default("push")).option("--tenant <tenant>", "tenant the token belongs to", "default").action(async (name, opts) => {
    const t = await clientFrom(program2).createToken(name, opts.role, opts.tenant);
    process.stdout.write(`${t.secret}
`);
  });
  token.command("ls").description("list tokens").action(async () => {
    const { tokens } = await clientFrom(program2).listTokens();
    for (const t of tokens) process.stdout.write(`${t.id}  ${t.role.padEnd(5)}  ${t.tenant.padEnd(12)}  ${t.name}
`);
  });
  token.command("rm <id>").description("revoke a token").action(async (id) => {
    await clientFrom(program2).revokeToken(id);
  });
}

// src/cli/services.ts
import { readFileSync as readFileSync2 } from "node:fs";
import YAML from "yaml";

// src/core/capabilities.ts
var OPTIONAL_CAPABILITIES = ["NET_RAW"];

// src/cli/services.ts
function collect(value, previous) {
  return [...previous, value];
}
function envPairs(pairs) {
  const env = {};
  for (const p of pairs) {
    const eq = p.indexOf("=");
    if (eq <= 0) throw new SkiffError("BAD_REQUEST", `--env expects K=V, got ${JSON.stringify(p)}`);
    env[p.slice(0, eq)] = p.slice(eq + 1);
  }
  return env;
}
function int(value) {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new SkiffError("BAD_REQUEST", `expected a non-negative integer, got ${JSON.stringify(value)}`);
  return n;
}
function capabilities(values) {
  return [...new Set(values.map((v) => {
    const name = v.toUpperCase().replace(/^CAP_/, "");
    if (!OPTIONAL_CAPABILITIES.includes(name)) throw new SkiffError("BAD_REQUEST", `--cap-add: ${JSON.stringify(v)} is not one of ${OPTIONAL_CAPABILITIES.join(", ")}`);
    return name;
  }))];
}
function deployDocument(name, f) {
  const fromFile = f.file ? YAML.parse(readFileSync2(f.file, "utf8")) : {};
  const doc = { ...fromFile };
  if (name) doc.name = name;
  if (f.image) doc.image = f.image;
  if (f.port) doc.port = int(f.port);
  if (f.env.length) doc.env = { ...doc.env, ...envPairs(f.env) };
  if (f.memory || f.cpu || f.disk) doc.resources = { ...doc.resources, ...f.memory ? { memory: f.memory } : {}, ...f.cpu ? { cpu: f.cpu } : {}, ...f.disk ? { disk: f.disk } : {} };
  if (f.capAdd.length) doc.capabilities = capabilities(f.capAdd);
  if (f.timeout) doc.timeout = f.timeout;
  const scaling = { ...doc.scaling };
  if (f.min) scaling.min = int(f.min);
  if (f.max) scaling.max = int(f.max);
  if (f.concurrency) scaling.concurrency = int(f.concurrency);
  if (Object.keys(scaling).length) doc.scaling = scaling;
  if (!doc.name) throw new SkiffError("BAD_REQUEST", "a service name is required (argument or `name:` in the file)");
  if (!doc.image) throw new SkiffError("BAD_REQUEST", "--image (or `image:` in the file) is required");
  return doc;
}
function line(text) {
  process.stdout.write(text + "\n");
}
async function waitReady(client, name, revision, timeoutMs) {
  const start = Date.now();
  for (; ; ) {
    const svc = await client.service(name);
    const rev = svc.revisions.find((r) => r.name === revision);
    if (rev?.instances.some((i) => i.phase === "ready")) return Date.now() - start;
    const failed = svc.events.find((e) => e.revision === revision && (e.kind === "start-failed" || e.kind === "not-ready"));
    if (failed) throw new SkiffError("UNAVAILABLE", `${revision} did not start: ${failed.message}`);
    if (Date.now() - start > timeoutMs) throw new SkiffError("UNAVAILABLE", `${revision} not ready after ${timeoutMs / 1e3}s; see \`skiff describe ${name}\``);
    await new Promise((r) => setTimeout(r, 100));
  }
}
function keepAliveText(k) {
  const s = (ms) => `${+(ms / 1e3).toFixed(1)}s`;
  return k.kind === "histogram" ? `pre-warm ${s(k.preWarmMs ?? 0)}, then warm ${s(k.keepAliveMs)} (learned: ${k.reason})` : `${s(k.keepAliveMs)} after the last request (fixed: ${k.reason})`;
}
function describeText(s) {
  const out = [
    `service   ${s.name}`,
    `url       ${s.url}   (or ${s.pathUrl})`,
    `image     ${s.image}`,
    `scaling   min ${s.scaling.min}, max ${s.scaling.max}, concurrency ${s.scaling.concurrency || "unlimited"}, metric ${s.scaling.metric}`,
    `keep-alive ${keepAliveText(s.keepAlive)}`,
    `traffic   ${s.traffic.map((t) => `${t.revision}=${t.percent}%`).join("  ")}`,
    "revisions"
  ];
  for (const r of s.revisions) {
    out.push(`  ${r.name}  ${r.digest}  ${r.createdAt}`);
    for (const i of r.instances) out.push(`    ${i.id}  ${i.phase}${i.address ? "  " + i.address : ""}`);
  }
  out.push("events");
  for (const e of s.events) out.push(`  ${e.at}  ${e.kind.padEnd(12)} ${e.revision ?? ""} ${e.message}`);
  return out.join("\n");
}
function registerServices(program2) {
  program2.command("deploy [name]").description("deploy an image as a service (a new immutable revision) and print its URL").option("-f, --file <file>", "skiff.yaml deploy document").option("--image <ref>", "image in Skiff registry: repo:tag or repo@sha256:\u2026").option("--port <port>", "port the app listens on (default 8080)").option("--env <K=V>", "environment variable (repeatable)", collect, []).option("--memory <size>", "memory limit, e.g. 256Mi").option("--cpu <cores>", "CPU limit, e.g. 0.5").option("--disk <size>", "writable layer size, memory-backed, e.g. 512Mi (default: the runtime.writableLayerBytes setting, 512Mi)").option("--cap-add <cap>", "add a capability to the default set: NET_RAW (repeatable)", collect, []).option("--min <n>", "minimum instances (0 = scale to zero)").option("--max <n>", "maximum instances").option("--concurrency <n>", "hard limit of concurrent requests per instance (0 = unlimited)").option("--timeout <duration>", "request timeout, e.g. 300s").option("--no-wait", "do not wait for min instances to be ready").action(async (name, f) => {
    const doc = deployDocument(name, f);
    const client = clientFrom(program2);
    line(`resolving ${doc.image} \u2026`);
    const r = await client.deploy(doc);
    line(`pinned    ${r.imageDigest}`);
    line(`unpacked  ${r.layers.unpacked} of ${r.layers.total} layers (${r.layers.total - r.layers.unpacked} cached)`);
    line(`revision  ${r.revision}`);
    if (r.service.scaling.min > 0 && f.wait) {
      line("starting  \u2026");
      const ms = await waitReady(client, r.service.name, r.revision, 12e4);
      line(`ready     in ${(ms / 1e3).toFixed(1)}s`);
    } else {
      line("scaled to zero: the first request starts an instance");
    }
    line(`url       ${r.service.url}`);
    line(`          ${r.service.pathUrl}`);
  });
  program2.command("ls").description("list services").action(async () => {
    const { services } = await clientFrom(program2).listServices();
    line(["NAME".padEnd(24), "REVISION".padEnd(24), "INSTANCES".padEnd(10), "URL"].join(" "));
    for (const s of services) {
      const n = s.revisions.reduce((a, r) => a + r.instances.filter((i) => i.phase === "ready").length, 0);
      line([s.name.padEnd(24), s.latestRevision.padEnd(24), String(n).padEnd(10), s.url].join(" "));
    }
  });
  program2.command("describe <name>").description("revisions, traffic, instances, URL and recent events of a service").action(async (name) => line(describeText(await clientFrom(program2).service(name))));
  program2.command("logs <name>").description("logs of a service\u2019s instances").option("-f, --follow", "keep streaming new lines").option("--revision <rev>", "only this revision").option("--tail <n>", "only the last n lines per instance").action(async (name, o) => {
    await clientFrom(program2).logs(name, { follow: o.follow, revision: o.revision, tail: o.tail ? int(o.tail) : void 0 }, (t) => process.stdout.write(t));
  });
  program2.command("scale <name>").description("change the minimum and maximum number of instances").option("--min <n>", "minimum instances").option("--max <n>", "maximum instances").action(async (name, o) => {
    const s = await clientFrom(program2).scale(name, { ...o.min ? { min: int(o.min) } : {}, ...o.max ? { max: int(o.max) } : {} });
    line(`${s.name}: min ${s.scaling.min}, max ${s.scaling.max}`);
  });
  program2.command("prewarm <name>").description("start instances now and keep them warm for a while (ahead of known demand)").option("--instances <n>", "instances per revision taking traffic (bounded by max)", "1").option("--for <duration>", "how long to keep them, e.g. 10m (at most 24h)", "10m").action(async (name, o) => {
    const r = await clientFrom(program2).prewarm(name, { instances: int(o.instances), for: o.for });
    for (const rev of r.revisions) line(`${rev.revision}  ${rev.ready}/${rev.instances} ready, kept warm until ${r.until}`);
    const short2 = r.revisions.filter((rev) => rev.ready < rev.instances);
    if (short2.length) throw new SkiffError("UNAVAILABLE", `${short2.map((rev) => rev.revision).join(", ")} not all ready; see \`skiff describe ${name}\``);
  });
  program2.command("traffic <name> <split...>").description("split traffic: skiff traffic NAME REV=90 REV=10").action(async (name, split) => {
    const traffic = split.map((p) => {
      const [revision, percent] = p.split("=");
      if (!revision || percent === void 0) throw new SkiffError("BAD_REQUEST", `expected REVISION=PERCENT, got ${JSON.stringify(p)}`);
      return { revision, percent: int(percent) };
    });
    const s = await clientFrom(program2).setTraffic(name, traffic);
    line(`traffic   ${s.traffic.map((t) => `${t.revision}=${t.percent}%`).join("  ")}`);
  });
  program2.command("rollback <name>").description("send all traffic to the revision before the current one").action(async (name) => {
    const s = await clientFrom(program2).rollback(name);
    line(`traffic   ${s.traffic.map((t) => `${t.revision}=${t.percent}%`).join("  ")}`);
  });
  program2.command("rm <name>").description("delete a service and stop its instances").action(async (name) => {
    await clientFrom(program2).deleteService(name);
    line(`deleted ${name}`);
  });
}

// src/core/quantity.ts
var MEMORY_UNITS = {
  "": 1,
  k: 1e3,
  K: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  Ki: 1024,
  Mi: 1024 ** 2,
  Gi: 1024 ** 3,
  Ti: 1024 ** 4
};
function parseMemory(value, field2) {
  if (typeof value === "number") return checkPositive(value, field2);
  const m = /^(\d+(?:\.\d+)?)([kKMGT]i?|)$/.exec(value.trim());
  const unit = m ? MEMORY_UNITS[m[2]] : void 0;
  if (!m || unit === void 0) throw new SkiffError("BAD_REQUEST", `${field2}: expected a memory size like 256Mi or 1Gi, got ${JSON.stringify(value)}`);
  return checkPositive(Math.round(Number(m[1]) * unit), field2);
}
function parseCpu(value, field2) {
  if (typeof value === "number") return checkPositive(value, field2);
  const m = /^(\d+(?:\.\d+)?)(m?)$/.exec(value.trim());
  if (!m) throw new SkiffError("BAD_REQUEST", `${field2}: expected CPU cores like 0.5 or 500m, got ${JSON.stringify(value)}`);
  return checkPositive(Number(m[1]) / (m[2] ? 1e3 : 1), field2);
}
function checkPositive(n, field2) {
  if (!Number.isFinite(n) || n <= 0) throw new SkiffError("BAD_REQUEST", `${field2}: must be greater than zero`);
  return n;
}

// src/cli/run.ts
var MIB = 1024 ** 2;
function exitStatus(exit, memoryFlag) {
  const messages = exit.pidsLimitHits ? [`skiff: container hit its pids limit (${exit.pidsLimit}): ${exit.pidsLimitHits} forks failed`] : [];
  switch (exit.reason) {
    case "exited":
      return { code: exit.exitCode, messages };
    case "signalled":
      return { code: 128 + exit.signal, messages };
    case "oom-killed": {
      const limit = memoryFlag ?? (exit.memoryLimitBytes % MIB === 0 ? `${exit.memoryLimitBytes / MIB}Mi` : `${exit.memoryLimitBytes} bytes`);
      return { code: 137, messages: [`skiff: container was OOM-killed (memory limit ${limit})`, ...messages] };
    }
  }
}
function registerRun(program2) {
  program2.command("run").description("run a container from an image in Skiff\u2019s registry (like docker run --rm): streams its output, exits with its exit code").argument("<image>", "repo[:tag] or repo@sha256:\u2026").argument("[command...]", "replaces the image CMD (the ENTRYPOINT stays)").option("--memory <size>", "memory limit, e.g. 256Mi (default 256Mi)").option("--cpus <cores>", "CPU limit in cores, e.g. 0.5 (default 1)").option("--pids <n>", "maximum processes + threads (default 512)").option("--env <K=V>", "environment variable (repeatable)", collect, []).option("--read-only", "mount the image root read-only (/tmp stays writable)").option("--disk <size>", "writable layer size, memory-backed, e.g. 512Mi (default: the runtime.writableLayerBytes setting, 512Mi)").option("--cap-add <cap>", "add a capability to the default set: NET_RAW (repeatable)", collect, []).passThroughOptions().action(async (image, command, f) => {
    const pids = f.pids === void 0 ? void 0 : Number(f.pids);
    if (pids !== void 0 && !(Number.isInteger(pids) && pids > 0)) throw new SkiffError("BAD_REQUEST", `--pids: expected a positive integer, got ${JSON.stringify(f.pids)}`);
    const request = {
      image,
      ...command.length ? { command } : {},
      env: envPairs(f.env),
      ...f.memory !== void 0 ? { memory: parseMemory(f.memory, "--memory") } : {},
      ...f.cpus !== void 0 ? { cpus: parseCpu(f.cpus, "--cpus") } : {},
      ...pids !== void 0 ? { pids } : {},
      ...f.readOnly ? { readOnly: true } : {},
      ...f.disk !== void 0 ? { disk: parseMemory(f.disk, "--disk") } : {},
      ...f.capAdd.length ? { capAdd: capabilities(f.capAdd) } : {}
    };
    const abort = new AbortController();
    const onInt = () => interrupt(130);
    const onTerm = () => interrupt(143);
    const interrupt = (code) => {
      abort.abort();
      process.exit(code);
    };
    process.once("SIGINT", onInt).once("SIGTERM", onTerm);
    const exit = await clientFrom(program2).run(request, (e) => (e.stream === "stdout" ? process.stdout : process.stderr).write(e.data), abort.signal);
    process.off("SIGINT", onInt).off("SIGTERM", onTerm);
    const status = exitStatus(exit, f.memory);
    for (const m of status.messages) process.stderr.write(m + "\n");
    process.exit(status.code);
  });
}

// src/core/exit.ts
function exitWithError(err) {
  if (err instanceof SkiffError) {
    process.stderr.write(`skiff: error ${err.code}: ${err.message}
`);
  } else {
    process.stderr.write(`skiff: ${err?.stack ?? String(err)}
`);
  }
  process.exit(1);
}

// src/core/version.ts
import { readFileSync as readFileSync3 } from "node:fs";
var VERSION = JSON.parse(readFileSync3(new URL("../../package.json", import.meta.url), "utf8")).version;

// src/cli/main.ts
var program = new Command("skiff").description("Skiff: push an image, get an endpoint that scales from zero.").version(VERSION).addOption(new Option3("--api <url>", "control API URL").env("SKIFF_API").default("http://127.0.0.1:5000")).addOption(new Option3("--data-dir <dir>", "data directory (also where admin.token is read from)").env("SKIFF_DATA_DIR")).showHelpAfterError().enablePositionalOptions();
program.command("up").description("run the Skiff daemon (control API, registry, gateway) in the foreground; `skiff up --help` for its options").allowUnknownOption().action(() => exitWithError(new Error("`skiff up` starts through bin/skiff.mjs (npx skiff up)")));
registerGc(program);
registerPush(program);
registerToken(program);
registerServices(program);
registerRun(program);
program.parseAsync(process.argv).catch(exitWithError);
