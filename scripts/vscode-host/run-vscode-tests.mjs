// Tier "vscode": runs the mocha suites of test/vscode/ inside the real extension host of code-server,
// the way @vscode/test-web and @vscode/test-electron do it.
//
//   node scripts/build.mjs --tests && node scripts/vscode-host/run-vscode-tests.mjs
//
// code-server rejects --extensionDevelopmentPath on its command line, but the workbench takes the same
// settings from the `payload` URL parameter. With extensionTestsPath set, VS Code loads that module in
// the extension host, awaits its run() and reports through two functions the page must provide:
// window.codeAutomationLog(type, args) for all console output (the mocha reporter included) and
// window.codeAutomationExit(code) at the end (0 = passed). Playwright's exposeFunction provides both.
//
// Options (environment): NETPATH_VSCODE_TIMEOUT_MS (default 360000: the suites take about 140 s alone and had not
// finished at 180 s on a machine at load 15), VERBOSE=1 (also print the page's own console), and for debugging the
// harness itself --dev-path, --tests-path, --workspace.
import fs from 'node:fs';
import { performance } from 'node:perf_hooks';
import path from 'node:path';
import util, { parseArgs } from 'node:util';
import { repoRoot } from './config.mjs';
import { ensureCodeServer } from './install.mjs';
import { discardState, startCodeServer } from './server.mjs';
import { launchBrowser } from './browser.mjs';
import { logger, seconds } from '../lib/proc.mjs';

const log = logger('vscode');
const { values: opts } = parseArgs({
  options: {
    'dev-path': { type: 'string', default: repoRoot },
    'tests-path': { type: 'string', default: path.join(repoRoot, 'out/test/vscode/index.js') },
    workspace: { type: 'string', default: path.join(repoRoot, 'test/fixtures/workspace') },
  },
});
const timeoutMs = Number(process.env.NETPATH_VSCODE_TIMEOUT_MS || 360_000);
const outDir = path.join(repoRoot, 'test-output/vscode');
/** Workbench chatter of every start, hidden unless VERBOSE is set. */
const NOISE = [
  /^Ignoring fetching additional builtin extensions/,
  /^Updating additional builtin extensions cache/,
  /^(Resolving|Resolved) connection token/,
  /^Creating a socket/,
  /^\[Service Worker\] registered/,
];

process.exitCode = await main();

async function main() {
  // VS Code requires the module by its file path (Node resolution), so point at the file itself.
  const testsPath = path.resolve(opts['tests-path']);
  if (!fs.existsSync(testsPath)) {
    log(`${path.relative(repoRoot, testsPath)} is missing: run \`node scripts/build.mjs --tests\` first`);
    return 1;
  }
  await ensureCodeServer();
  fs.rmSync(outDir, { recursive: true, force: true });
  fs.mkdirSync(outDir, { recursive: true });

  const t0 = performance.now();
  const server = await startCodeServer({ name: 'vscode-tier' });
  let browser;
  let code = 1;
  try {
    log(`code-server ${server.url} up in ${seconds(t0)}s`);
    browser = await launchBrowser();
    code = await runSuites(browser.page, server);
    if (code !== 0) {
      await browser.page.screenshot({ path: path.join(outDir, 'workbench-at-exit.png') }).catch(() => {});
      log(
        `code-server log: ${path.relative(repoRoot, server.state.logFile)}; screenshot in ${path.relative(repoRoot, outDir)}/`,
      );
    }
    log(`${code === 0 ? 'passed' : `failed (exit code ${code})`} in ${seconds(t0)}s`);
    return code;
  } finally {
    await browser?.close();
    await server.stop();
    if (code === 0) discardState(server.state);
  }
}

/** Opens the workbench with the test payload and resolves with the exit code the extension host reports. */
async function runSuites(page, server) {
  const remote = (p) => `vscode-remote://${server.host}${path.resolve(p)}`;
  const payload = JSON.stringify([
    ['extensionDevelopmentPath', remote(opts['dev-path'])],
    ['extensionTestsPath', remote(opts['tests-path'])],
  ]);
  const url = server.folderUrl(opts.workspace, `&payload=${encodeURIComponent(payload)}`);

  const t0 = performance.now();
  const stamp = () => `[+${seconds(t0).padStart(5)}s]`;
  let finish;
  const done = new Promise((resolve) => (finish = resolve));
  const timer = setTimeout(() => {
    log(`no result after ${timeoutMs / 1000}s: giving up`);
    finish(2);
  }, timeoutMs);
  done.finally(() => clearTimeout(timer));

  await page.exposeFunction('codeAutomationExit', (code) => finish(Number(code)));
  // Everything the extension host prints, mocha's reporter included, arrives here.
  await page.exposeFunction('codeAutomationLog', (type, args) => {
    const text = util.format(...(Array.isArray(args) ? args : [args]));
    if (!process.env.VERBOSE && NOISE.some((re) => re.test(text))) return;
    (type === 'error' ? console.error : console.log)(`${stamp()} ${text}`);
  });
  page.on('pageerror', (err) => log(`page error: ${err.message}`));
  page.on('crash', () => {
    log('the workbench page crashed');
    finish(3);
  });
  if (process.env.VERBOSE) page.on('console', (m) => log(`[page ${m.type()}] ${m.text()}`));

  log(
    `opening the workbench on ${path.relative(repoRoot, opts.workspace)} with the suite ${path.relative(repoRoot, opts['tests-path'])}`,
  );
  await page.goto(url);
  return done;
}
