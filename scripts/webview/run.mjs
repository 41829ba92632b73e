// The webview tier: Playwright (playwright-core + Debian's Chromium) against the BUILT webview bundles in
// dist/webview, served with the extension's CSP and a stand-in VS Code API (test/webview/harness.ts).
// Screenshots land in test-output/webview/. Usage: node scripts/webview/run.mjs [mocha options]
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
for (const bundle of ['trace.js', 'topology.js']) {
  if (!fs.existsSync(path.join(root, 'dist/webview', bundle))) {
    console.error(`[webview] dist/webview/${bundle} is missing: run npm run build first`);
    process.exit(1);
  }
}
const mocha = spawn(
  process.execPath,
  [
    path.join(root, 'node_modules/mocha/bin/mocha.js'),
    '--config',
    'test/webview/.mocharc.json',
    ...process.argv.slice(2),
  ],
  { cwd: root, stdio: 'inherit' },
);
mocha.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
