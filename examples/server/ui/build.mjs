// Bundles the dashboard with esbuild into OUT: index.html, app.js (Preact and uPlot
// included), app.css and favicon.svg. The packages come from MODULES, the
// node_modules that `npm ci` filled in the build tree, so the source tree stays clean
// and every build preset has its own.
//
// Usage: node build.mjs MODULES OUT
import { copyFileSync, mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const [modules, out] = process.argv.slice(2);
if (!modules || !out) {
  console.error('usage: node build.mjs MODULES OUT');
  process.exit(2);
}
const esbuild = createRequire(join(modules, '..', 'package.json'))('esbuild');
const src = join(dirname(fileURLToPath(import.meta.url)), 'src');

mkdirSync(out, { recursive: true });
await esbuild.build({
  entryPoints: { app: join(src, 'main.jsx') },
  outdir: out,
  bundle: true,
  minify: true,
  format: 'iife',
  // Chromium and Firefox ESR of the last two years; Debian's browsers are newer.
  target: ['chrome109', 'firefox115', 'safari16'],
  jsx: 'automatic',
  jsxImportSource: 'preact',
  nodePaths: [modules],
  legalComments: 'none',
  logLevel: 'warning',
});
for (const file of ['index.html', 'favicon.svg']) copyFileSync(join(src, file), join(out, file));
