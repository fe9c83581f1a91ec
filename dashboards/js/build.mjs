// Bundles plotly-bithedge.js into dist/ (run by `npm install`'s postinstall, so `make bootstrap` builds it).
// The settings are plotly.js's own esbuild-config.js where they matter for these traces: `global` is the window,
// no AMD, ES2016; its CSS plugin only serves the map traces' stylesheet, which this bundle never loads.
import { build } from 'esbuild';
import { readFileSync } from 'node:fs';

const { version } = JSON.parse(readFileSync(new URL('./node_modules/plotly.js/package.json', import.meta.url)));

await build({
  entryPoints: ['plotly-bithedge.js'],
  outfile: 'dist/plotly-bithedge.min.js',
  bundle: true,
  minify: true,
  format: 'iife',
  globalName: 'Plotly',
  define: { global: 'window', 'define.amd': 'false' },
  loader: { '.css': 'empty' },
  target: 'es2016',
  banner: { js: `/* plotly.js v${version} (bithedge: scatter, bar, heatmap), MIT license, https://plot.ly/ */` },
  logLevel: 'warning',
});
