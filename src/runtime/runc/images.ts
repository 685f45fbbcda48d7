// runtime/runc/images: the runc driver's view of images — a pinned image's config resolved once through
// the images module's ManifestSource, and its layers unpacked once into the shared LayerCache (the
// overlay lower dirs of every instance of it).
import { SkiffError } from '../../core/errors.ts';
import { pinnedReference } from '../../core/names.ts';
import type { PinnedImage } from '../../core/service.ts';
import { DEFAULT_PLATFORM, resolveImage, type ImageConfig, type Platform } from '../../images/image-config.ts';
import type { CachedLayer, LayerCache } from '../../images/layer-cache.ts';
import type { ManifestSource } from '../../images/ports.ts';

export class RuncImages {
  private readonly configs = new Map<string, Promise<ImageConfig>>();

  constructor(
    private readonly source: ManifestSource,
    private readonly cache: LayerCache,
    private readonly platform: Platform = DEFAULT_PLATFORM,
  ) {}

  /** The image's config; immutable (pinned), so resolved once per driver. Failures are not kept. */
  config(image: PinnedImage): Promise<ImageConfig> {
    const key = pinnedReference(image);
    let p = this.configs.get(key);
    if (!p) {
      p = resolveImage(this.source, image.repository, image.digest, this.platform);
      p.catch(() => this.configs.delete(key));
      this.configs.set(key, p);
    }
    return p;
  }

  /** The image's layers, unpacked (base first); errors name the image. */
  async layers(image: PinnedImage, config: ImageConfig): Promise<CachedLayer[]> {
    try {
      return await this.cache.ensureImage(config.layers.map((l) => l.digest));
    } catch (err) {
      if (!(err instanceof SkiffError)) throw err;
      throw new SkiffError(err.code, `image ${pinnedReference(image)}: ${err.message}`, { cause: err, detail: err.detail });
    }
  }

  /** Resolves and unpacks ahead of the first instance; `unpacked` = layers this call had to unpack. */
  async prepare(image: PinnedImage): Promise<{ total: number; unpacked: number }> {
    const config = await this.config(image);
    const cached = await Promise.all(config.layers.map((l) => this.cache.get(l.digest)));
    await this.layers(image, config);
    return { total: config.layers.length, unpacked: cached.filter((c) => c === undefined).length };
  }
}
