// `npm run test:electron`: the vscode tier's suites (test/vscode/) in a desktop VS Code downloaded by
// @vscode/test-electron, for machines that can reach Microsoft's update server. CI cannot, so CI runs
// the same bundle in code-server instead (`npm test`, tier "vscode"); both load the same run().
//
//   node scripts/test-electron.mjs            (on Linux without a display: xvfb-run -a node scripts/test-electron.mjs)
//
// It pins the VS Code version code-server 4.96.4 bundles, the oldest engines.vscode allows.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { runTests } from '@vscode/test-electron';
import { run } from './lib/proc.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const VSCODE_VERSION = '1.96.4';

try {
  await run(process.execPath, [path.join(root, 'scripts/build.mjs'), '--tests'], { cwd: root });
  await runTests({
    version: VSCODE_VERSION,
    cachePath: path.join(root, '.vscode-test/electron'),
    extensionDevelopmentPath: root,
    extensionTestsPath: path.join(root, 'out/test/vscode/index.js'),
    launchArgs: [
      path.join(root, 'test/fixtures/workspace'),
      '--disable-extensions',
      '--disable-workspace-trust',
      '--skip-welcome',
      '--skip-release-notes',
    ],
  });
} catch (err) {
  console.error(`[test:electron] ${err instanceof Error ? err.message : err}`);
  process.exit(1);
}
