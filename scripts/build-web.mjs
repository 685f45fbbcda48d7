// The dashboard's build, run by scripts/build.mjs (`npm run build`, `npm ci`'s `prepare`, `npm run setup`):
// bundles web/src (Preact, TSX) with esbuild into dist/web/assets/ under content-hashed names, writes
// dist/web/index.html from web/index.html pointing at them, and prints the gzipped JS+CSS size against
// the budget (docs/dashboard.md). The daemon serves dist/web (src/daemon/dashboard.ts).
import { build } from 'esbuild';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { gzipSync } from 'node:zlib';

export const BUDGET_BYTES = 150 * 1024;

/** @param {{ root: string, out: string }} dirs  out: dist/ (dist/web is written) */
export async function buildDashboard({ root, out }) {
  const webOut = path.join(out, 'web');
  const assets = path.join(webOut, 'assets');
  mkdirSync(assets, { recursive: true });
  const result = await build({
    absWorkingDir: root,
    entryPoints: { main: 'web/src/main.tsx' },
    outdir: assets,
    entryNames: '[name]-[hash]',
    assetNames: '[name]-[hash]',
    bundle: true,
    format: 'esm',
    platform: 'browser',
    // browsers of the last ~3 years (ES modules, :focus-visible, clip-path)
    target: ['es2022', 'chrome111', 'firefox111', 'safari16.4'],
    tsconfig: 'web/tsconfig.json',
    jsx: 'automatic',
    jsxImportSource: 'preact',
    minify: true,
    charset: 'utf8',
    metafile: true,
    logLevel: 'warning',
  });
  const entry = Object.entries(result.metafile.outputs).find(([, o]) => o.entryPoint === 'web/src/main.tsx');
  if (!entry) throw new Error('dashboard build: no output for web/src/main.tsx');
  const [jsPath, { cssBundle }] = entry;
  if (!cssBundle) throw new Error('dashboard build: web/src/main.tsx produced no CSS bundle');
  const html = readFileSync(path.join(root, 'web/index.html'), 'utf8')
    .replace('{{js}}', path.basename(jsPath))
    .replace('{{css}}', path.basename(cssBundle));
  writeFileSync(path.join(webOut, 'index.html'), html);
  return { dir: webOut, ...measure(assets) };
}

/** Each JS and CSS file's gzipped size (level 9, what a server sending gzip would send) and their sum. */
export function measure(assets) {
  const files = readdirSync(assets)
    .filter((f) => /\.(js|css)$/.test(f))
    .map((f) => ({ name: f, gzipBytes: gzipSync(readFileSync(path.join(assets, f)), { level: 9 }).length }));
  return { files, gzipBytes: files.reduce((n, f) => n + f.gzipBytes, 0) };
}

export function describe({ files, gzipBytes }) {
  const kb = (n) => `${(n / 1024).toFixed(1)} KB`;
  const over = gzipBytes > BUDGET_BYTES ? ' — OVER BUDGET' : '';
  return `dashboard: dist/web, JS+CSS ${kb(gzipBytes)} gzipped (budget ${kb(BUDGET_BYTES)})${over}: ${files.map((f) => `${f.name} ${kb(f.gzipBytes)}`).join(', ')}`;
}
