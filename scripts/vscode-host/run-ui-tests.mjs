// Tier "ui": Playwright drives the real workbench (code-server + Debian's Chromium) with the packaged
// .vsix installed, on the fixture workspace; test/ui/*.test.ts are the steps, screenshots go to
// test-output/ui/.
//
//   node scripts/package.mjs && node scripts/vscode-host/run-ui-tests.mjs [--vsix netpath-x.y.z.vsix] [-- mocha args]
//
// It installs the .vsix exactly as a user would (`code-server --install-extension`) into a fresh
// extensions folder, so the test sees what the package holds, not the working tree.
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { performance } from 'node:perf_hooks';
import { repoRoot } from './config.mjs';
import { ensureCodeServer } from './install.mjs';
import { discardState, installExtension, prepareState, startCodeServer } from './server.mjs';
import { logger, run, seconds } from '../lib/proc.mjs';

const log = logger('ui');
const manifest = JSON.parse(fs.readFileSync(path.join(repoRoot, 'package.json'), 'utf8'));
const { values: opts, positionals: mochaArgs } = parseArgs({
  allowPositionals: true,
  options: {
    vsix: { type: 'string', default: path.join(repoRoot, `${manifest.name}-${manifest.version}.vsix`) },
    workspace: { type: 'string', default: path.join(repoRoot, 'test/fixtures/workspace') },
  },
});
const outDir = path.join(repoRoot, 'test-output/ui');

process.exitCode = await main();

async function main() {
  if (!fs.existsSync(opts.vsix)) {
    log(`${path.relative(repoRoot, opts.vsix)} is missing: run \`node scripts/package.mjs\` first`);
    return 1;
  }
  await ensureCodeServer();
  fs.rmSync(outDir, { recursive: true, force: true });
  fs.mkdirSync(outDir, { recursive: true });

  const t0 = performance.now();
  const state = prepareState('ui-tier');
  await installExtension(state, opts.vsix);
  log(`installed ${path.basename(opts.vsix)} (${seconds(t0)}s)`);
  const server = await startCodeServer({ name: 'ui-tier', state });
  let code = 1;
  try {
    log(`code-server ${server.url} up; running test/ui/ against the fixture workspace`);
    code = await run(
      process.execPath,
      [path.join(repoRoot, 'node_modules/mocha/bin/mocha.js'), '--config', 'test/ui/.mocharc.json', ...mochaArgs],
      {
        cwd: repoRoot,
        env: { ...process.env, NETPATH_UI_URL: server.folderUrl(opts.workspace), NETPATH_UI_OUT: outDir },
        allowFail: true,
      },
    );
    const shots = fs.readdirSync(outDir).filter((f) => f.endsWith('.png'));
    log(`screenshots in ${path.relative(repoRoot, outDir)}/: ${shots.join(', ') || 'none'}`);
    if (code !== 0) log(`code-server log: ${path.relative(repoRoot, state.logFile)}`);
    log(`${code === 0 ? 'passed' : 'failed'} in ${seconds(t0)}s`);
    return code;
  } finally {
    await server.stop();
    if (code === 0) discardState(state);
  }
}
