// images/layer-cache: every layer unpacked once, keyed by its compressed digest, shared by all images.
//
// <dir>/                      0700: layers keep setuid files and device-free trees no host user may reach
//   .tmp-<random>/            one unpack in progress (see unpack.ts); never mounted, swept on init()
//   sha256/<hex>/             a published layer, renamed in atomically from .tmp-*; immutable
//     root/                   the overlay lowerdir
//     layer.json              UnpackResult (diffId, sizes, dropped entries)
//
// Concurrent ensureLayer() calls for one digest share one promise (cleared in finally), so two images
// that share a base layer, started together, still unpack it once.
import { randomBytes } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { parseDigest } from '../core/digest.ts';
import { renameDurable, writeFileAtomic } from '../core/fsutil.ts';
import { silentLogger, type Logger } from '../core/logger.ts';
import { budgetsWith, type UnpackBudgets } from './budgets.ts';
import { syncFilesystem } from './overlay.ts';
import type { BlobSource } from './ports.ts';
import { unpackLayer, type UnpackResult } from './unpack.ts';

export interface CachedLayer extends UnpackResult {
  /** The unpacked tree: an overlayfs lowerdir. */
  readonly path: string;
}

export interface LayerCacheOptions {
  readonly dir: string;
  readonly blobs: BlobSource;
  readonly budgets?: Partial<UnpackBudgets>;
  /** Layers of one image unpacked at once (gunzip runs on libuv's pool, zstd in its own process). */
  readonly concurrency?: number;
  readonly logger?: Logger;
}

export class LayerCache {
  private readonly inflight = new Map<string, Promise<CachedLayer>>();
  private readonly budgets: UnpackBudgets;
  private readonly logger: Logger;

  constructor(private readonly opts: LayerCacheOptions) {
    this.budgets = budgetsWith(opts.budgets);
    this.logger = (opts.logger ?? silentLogger).child({ component: 'layer-cache' });
  }

  /** Creates the cache directory (0700) and removes unpacks a crash left behind. */
  async init(): Promise<void> {
    await fsp.mkdir(this.opts.dir, { recursive: true, mode: 0o700 });
    await fsp.chmod(this.opts.dir, 0o700);
    for (const name of await fsp.readdir(this.opts.dir)) {
      if (name.startsWith('.tmp-')) await fsp.rm(path.join(this.opts.dir, name), { recursive: true, force: true });
    }
  }

  private layerDir(digest: string): string {
    const { algorithm, hex } = parseDigest(digest);
    return path.join(this.opts.dir, algorithm, hex);
  }

  /** The layer if it is already unpacked, else undefined. */
  async get(digest: string): Promise<CachedLayer | undefined> {
    const dir = this.layerDir(digest);
    try {
      const meta = JSON.parse(await fsp.readFile(path.join(dir, 'layer.json'), 'utf8')) as UnpackResult;
      return { ...meta, path: path.join(dir, 'root') };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
  }

  ensureLayer(digest: string): Promise<CachedLayer> {
    const running = this.inflight.get(digest);
    if (running) return running;
    const p = (async () => (await this.get(digest)) ?? this.unpack(digest))().finally(() => this.inflight.delete(digest));
    this.inflight.set(digest, p);
    return p;
  }

  /** Unpacks an image's missing layers, `concurrency` at a time; returns them in the given order. */
  async ensureImage(digests: readonly string[]): Promise<CachedLayer[]> {
    const out: CachedLayer[] = new Array(digests.length);
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < digests.length) {
        const i = next++;
        out[i] = await this.ensureLayer(digests[i]!);
      }
    };
    const n = Math.max(1, Math.min(this.opts.concurrency ?? 2, digests.length));
    await Promise.all(Array.from({ length: n }, worker));
    return out;
  }

  private async unpack(digest: string): Promise<CachedLayer> {
    const parsed = parseDigest(digest);
    const staging = path.join(this.opts.dir, `.tmp-${randomBytes(8).toString('hex')}`);
    await fsp.mkdir(staging, 0o700);
    try {
      const source = await this.opts.blobs.open(digest);
      const result = await unpackLayer({ source, digest: parsed, staging, budgets: this.budgets, logger: this.logger });
      await writeFileAtomic(path.join(staging, 'layer.json'), JSON.stringify(result));
      await syncFilesystem(staging);
      const dir = this.layerDir(digest);
      await renameDurable(staging, dir);
      this.logger.info({ layer: digest, size: result.size, entries: result.entries }, 'layer unpacked');
      return { ...result, path: path.join(dir, 'root') };
    } finally {
      // Never let cleanup mask the unpack's own error; init() sweeps whatever is left.
      await fsp.rm(staging, { recursive: true, force: true }).catch((err: unknown) => this.logger.warn({ staging, err }, 'cannot remove unpack staging dir'));
    }
  }
}
