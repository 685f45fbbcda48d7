// core/version: Skiff's version. The build (scripts/build.mjs) defines SKIFF_BUILD_VERSION from
// package.json, so the compiled CLI reads no file to print it; from source (tsx: tests, benches) it
// is read from package.json next to the sources.
import { readFileSync } from 'node:fs';

declare const SKIFF_BUILD_VERSION: string | undefined;

export const VERSION: string =
  typeof SKIFF_BUILD_VERSION === 'string'
    ? SKIFF_BUILD_VERSION
    : (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
