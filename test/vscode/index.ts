/**
 * Entry point of the "vscode" tier: mocha inside a real VS Code extension host.
 *
 * VS Code loads this module (the `extensionTestsPath`) in the extension host and awaits `run()`; a
 * rejection means failure. That is the contract of `@vscode/test-electron` too, so the same bundle runs
 * under code-server (scripts/vscode-host/run-vscode-tests.mjs) and under a desktop VS Code
 * (scripts/test-electron.mjs). `node scripts/build.mjs --tests` bundles it to out/test/vscode/index.js.
 */
import Mocha from 'mocha';

/**
 * Every suite, imported explicitly: a bundle has no test files to glob. They are loaded lazily, after
 * mocha has put `suite`/`test` into the global scope, because importing a suite registers its tests.
 */
const SUITES: ReadonlyArray<() => Promise<unknown>> = [
  () => import('./host.test'),
  () => import('./extension.test'),
  () => import('./language.test'),
  () => import('./editor.test'),
  () => import('./verify.test'),
];

export async function run(): Promise<void> {
  const mocha = new Mocha({
    ui: 'tdd',
    // The host forwards console.log, not process.stdout: `spec` writes whole lines through console.log.
    reporter: 'spec',
    color: false,
    timeout: 30_000,
    // A filter for debugging one test: NETPATH_GREP=hover npm run test -- --tier vscode
    grep: process.env.NETPATH_GREP,
  });
  mocha.suite.emit(Mocha.Suite.constants.EVENT_FILE_PRE_REQUIRE, globalThis, 'test/vscode/index.ts', mocha);
  for (const load of SUITES) await load();

  const failures = await new Promise<number>((resolve) => mocha.run(resolve));
  if (failures > 0) throw new Error(`${failures} test${failures === 1 ? '' : 's'} failed`);
}
