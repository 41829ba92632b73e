// `npm start`: NetPath in a real VS Code on the bundled examples, and the CLI's findings for them.
//   1. builds and packages the .vsix (scripts/package.mjs, which also checks its contents);
//   2. installs code-server into .vscode-test/ if needed, then the .vsix into it;
//   3. starts code-server on 127.0.0.1 with examples/ open and prints the URL;
//   4. prints what `netpath lint examples/two-node-lab` finds, and a trace from a pod to a Service;
//   5. runs until Ctrl-C, then stops code-server (its whole process group).
// NETPATH_PORT picks a fixed port (default: a free one). Editor state is kept between runs in
// .vscode-test/runs/start/.
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { installLine, installPackages, isRoot, missingPackages } from './lib/debian.mjs';
import { logger } from './lib/proc.mjs';
import { packageExtension } from './package.mjs';
import { ensureCodeServer } from './vscode-host/install.mjs';
import { installExtension, prepareState, startCodeServer } from './vscode-host/server.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const log = logger('start');
const EXAMPLES = path.join(root, 'examples');
const LINTED = 'examples/two-node-lab';
/** What building code-server needs (no browser: you bring your own). */
const NEEDS = ['ripgrep', 'libkrb5-dev', 'make', 'g++', 'python3'];

try {
  await main();
} catch (err) {
  console.error(`[start] ${err.message}`);
  process.exit(1);
}

async function main() {
  await ensurePackages();
  const vsix = await packageExtension();
  await ensureCodeServer();

  const state = prepareState('start', { keep: true });
  await installExtension(state, vsix);
  log(`installed ${path.basename(vsix)} into code-server`);
  const server = await startCodeServer({
    name: 'start',
    folder: EXAMPLES,
    state,
    port: Number(process.env.NETPATH_PORT || 0),
  });

  await showCli(['lint', LINTED]);
  await showCli(['trace', LINTED, '--from', 'pod/default/client', '--to', 'svc/default/web:http']);
  const url = server.folderUrl(EXAMPLES);
  console.log(`
  NetPath is running in VS Code (code-server) with examples/ open:

      ${url}

  Open it in a browser on this machine (over SSH: ssh -L ${new URL(url).port}:127.0.0.1:${new URL(url).port} <host>).
  Open a *.netpath.yaml file, hover keys and values, run "NetPath: Trace Packet…" or "NetPath: Show
  Topology" from the palette (F1), or follow the walkthrough "Learn Kubernetes networking with NetPath".
  Ctrl-C stops it. Server log: ${path.relative(process.cwd(), state.logFile)}
`);
  // Ctrl-C is handled in server.mjs (stops code-server, exits 130); here we only notice a crash.
  const { code, stopped } = await server.exited;
  if (!stopped) throw new Error(`code-server exited by itself (${code}); see ${state.logFile}`);
}

async function ensurePackages() {
  const missing = missingPackages(NEEDS);
  if (!missing.length) return;
  if (!isRoot())
    throw new Error(
      `missing Debian packages: ${missing.join(' ')}. Install them with:\n\n    ${installLine(missing)}\n`,
    );
  log(`installing missing Debian packages: ${missing.join(' ')}`);
  await installPackages(missing);
}

/** Runs the CLI on the two-node lab and prints what it says (findings are not a failure of `npm start`). */
function showCli(args) {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [path.join(root, 'dist/cli.js'), ...args], {
      cwd: root,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));
    child.on('close', (code) => {
      console.log(`\n$ netpath ${args.join(' ')}    (exit code ${code})`);
      console.log(output.trimEnd() || '(no findings)');
      resolve();
    });
  });
}
