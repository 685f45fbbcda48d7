// images/entry-path: turns a tar entry name into path components relative to the layer root, and
// classifies overlay whiteout names. Containment is decided on components, never on string prefixes:
// a name is refused when it is absolute, contains `..`, a NUL byte or an over-long component, so every
// accepted name is a plain walk down from the root.
import { SkiffError } from '../core/errors.ts';

export const WHITEOUT_PREFIX = '.wh.';
export const OPAQUE_MARKER = '.wh..wh..opq';

export function invalid(message: string): SkiffError {
  return new SkiffError('LAYER_INVALID', `layer is malformed or hostile: ${message}`);
}

const NAME_MAX = 255;

/** Components of a tar name; [] is the layer root (`./`, `.`). */
export function entryParts(name: string, what = 'entry'): string[] {
  const shown = JSON.stringify(name.slice(0, 200));
  if (name.includes('\0')) throw invalid(`${what} ${shown} contains a NUL byte`);
  const parts = name.split('/').filter((p) => p !== '' && p !== '.');
  // A bare `/` is the root entry (umoci writes it so); any other absolute name is refused, not cleaned.
  if (name.startsWith('/') && parts.length > 0) throw invalid(`${what} ${shown} is an absolute path`);
  for (const [i, p] of parts.entries()) {
    if (p === '..') throw invalid(`${what} ${shown} contains ".."`);
    if (Buffer.byteLength(p) > NAME_MAX) throw invalid(`${what} ${shown} has a component longer than ${NAME_MAX} bytes`);
    // `.wh.` names are markers, never directories: `x/.wh.y/z` would hide a marker inside a path.
    if (i < parts.length - 1 && p.startsWith(WHITEOUT_PREFIX)) throw invalid(`${what} ${shown} has a whiteout name as a directory`);
  }
  return parts;
}

export type WhiteoutKind =
  | { kind: 'none' }
  | { kind: 'opaque' }
  | { kind: 'aufs-meta' }
  | { kind: 'whiteout'; target: string };

/** Classifies a base name: a plain name, the opaque marker, aufs metadata, or a whiteout of `target`. */
export function classifyWhiteout(base: string): WhiteoutKind {
  if (!base.startsWith(WHITEOUT_PREFIX)) return { kind: 'none' };
  if (base === OPAQUE_MARKER) return { kind: 'opaque' };
  // `.wh..wh.plnk`, `.wh..wh.aufs`...: aufs bookkeeping that docker also skips.
  if (base.startsWith(WHITEOUT_PREFIX + WHITEOUT_PREFIX)) return { kind: 'aufs-meta' };
  const target = base.slice(WHITEOUT_PREFIX.length);
  if (target === '' || target === '.' || target === '..') throw invalid(`whiteout ${JSON.stringify(base)} names no file`);
  return { kind: 'whiteout', target };
}
