// Builds every bundle with esbuild. Usage: node scripts/build.mjs [--watch] [--tests]
//   dist/extension.js   extension host (CommonJS, `vscode` external)
//   dist/analysis-worker.js  the extension's analysis thread (worker_threads)
//   dist/cli.js         the `netpath` command-line tool (Node)
//   dist/webview/*.js   browser code for the webviews
//   out/test/vscode/    the mocha suite that runs inside the real extension host (with --tests)
import * as esbuild from 'esbuild';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const args = new Set(process.argv.slice(2));
const production = args.has('--production');

const common = {
  absWorkingDir: root,
  bundle: true,
  sourcemap: production ? false : 'linked',
  minify: production,
  logLevel: 'warning',
  target: 'es2022',
};

const builds = [
  {
    ...common,
    entryPoints: ['src/vscode/extension.ts'],
    outfile: 'dist/extension.js',
    platform: 'node',
    format: 'cjs',
    external: ['vscode'],
  },
  {
    // The analysis worker: a worker_threads thread of the extension host that runs the rules.
    ...common,
    entryPoints: ['src/vscode/analysis-worker.ts'],
    outfile: 'dist/analysis-worker.js',
    platform: 'node',
    format: 'cjs',
  },
  {
    ...common,
    entryPoints: ['src/cli/main.ts'],
    outfile: 'dist/cli.js',
    platform: 'node',
    format: 'cjs',
    banner: { js: '#!/usr/bin/env node' },
  },
  {
    ...common,
    entryPoints: {
      trace: 'src/webview/trace/main.ts',
      topology: 'src/webview/topology/main.ts',
      reach: 'src/webview/reach/main.ts',
    },
    outdir: 'dist/webview',
    platform: 'browser',
    format: 'esm',
    loader: { '.css': 'text' },
  },
];
if (args.has('--tests')) {
  // mocha's parallel mode (never used in the extension host) resolves worker files at run time: silence that.
  builds.push({
    ...common,
    sourcemap: 'inline',
    entryPoints: ['test/vscode/index.ts'],
    outfile: 'out/test/vscode/index.js',
    platform: 'node',
    format: 'cjs',
    external: ['vscode'],
    logOverride: { 'require-resolve-not-external': 'silent' },
  });
}

// In --watch mode, one "[watch] build started" / "[watch] build finished" pair per burst of rebuilds and
// every message as "✘ [ERROR] text" + "    file:line:column:": what .vscode/tasks.json's matcher reads
// (F5 waits for "finished"). The initial builds are counted up front, so "finished" means all of them.
let building = builds.length;
const watchReporter = () => {
  let initial = true;
  return {
    name: 'watch-reporter',
    setup(build) {
      build.onStart(() => {
        if (!initial && building++ === 0) console.log('[watch] build started');
      });
      build.onEnd(({ errors, warnings }) => {
        initial = false;
        for (const [mark, messages] of [
          ['✘ [ERROR]', errors],
          ['▲ [WARNING]', warnings],
        ]) {
          for (const { text, location } of messages) {
            console.error(`${mark} ${text}`);
            if (location) console.error(`    ${location.file}:${location.line}:${location.column}:`);
          }
        }
        if (--building === 0) console.log('[watch] build finished');
      });
    },
  };
};

fs.rmSync(path.join(root, 'dist'), { recursive: true, force: true });
if (args.has('--watch')) {
  console.log('[watch] build started');
  for (const b of builds)
    await (await esbuild.context({ ...b, logLevel: 'silent', plugins: [watchReporter()] })).watch();
  console.log('[build] watching for changes');
} else {
  await Promise.all(builds.map((b) => esbuild.build(b)));
  fs.chmodSync(path.join(root, 'dist/cli.js'), 0o755);
  console.log(`[build] ${builds.length} bundles written`);
}
