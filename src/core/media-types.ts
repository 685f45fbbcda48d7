// core/media-types: the manifest media types Skiff reads (OCI and Docker v2), for every module that
// has to tell an image from an index without the registry's own parser.
export const INDEX_MEDIA_TYPES: ReadonlySet<string> = new Set(['application/vnd.oci.image.index.v1+json', 'application/vnd.docker.distribution.manifest.list.v2+json']);
export const IMAGE_MEDIA_TYPES: ReadonlySet<string> = new Set(['application/vnd.oci.image.manifest.v1+json', 'application/vnd.docker.distribution.manifest.v2+json']);
/** An Accept header that takes any of them. */
export const ACCEPT_MANIFESTS = [...IMAGE_MEDIA_TYPES, ...INDEX_MEDIA_TYPES].join(', ');
