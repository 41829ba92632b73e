// Starts and stops code-server for the test tiers and `npm start`.
//
//   const server = await startCodeServer({ name: 'ui', folder });   // -> { url, host, stop(), ... }
//   try { ... } finally { await server.stop(); }
//
// code-server runs in its own process group (spawn's `detached`, which is setsid(2)), so stop() can kill
// it together with its extension host and every helper it started: after an unclean browser exit the
// extension host can otherwise linger for minutes. Servers still running when this process ends (an
// error, Ctrl-C, SIGTERM from CI) are killed by the handlers installed below.
/* global fetch, AbortSignal, setInterval */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { codeServerEnv, paths } from './config.mjs';
import { run, tailOf } from '../lib/proc.mjs';

/** Bounded waits; code-server is normally listening in about a second. */
const LISTEN_TIMEOUT_MS = 60_000;
const HEALTH_TIMEOUT_MS = 30_000;
const STOP_GRACE_MS = 5_000;

/**
 * The folders of one code-server instance: user data (with our settings.json), extensions and the log.
 * By default they are new and private to this process (runs/<name>-<pid>), so a run never sees
 * extensions or state of another, even one running at the same time; folders of runs whose process is
 * gone are removed. `keep` reuses runs/<name> instead (for `npm start`, which keeps editor state).
 */
export function prepareState(name, { keep = false } = {}) {
  if (!keep) pruneDeadRuns(name);
  const dir = path.join(paths.runs, keep ? name : `${name}-${process.pid}`);
  if (!keep) fs.rmSync(dir, { recursive: true, force: true });
  const state = {
    dir,
    userDataDir: path.join(dir, 'user-data'),
    extensionsDir: path.join(dir, 'extensions'),
    logFile: path.join(dir, 'code-server.log'),
  };
  fs.mkdirSync(path.join(state.userDataDir, 'User'), { recursive: true });
  fs.mkdirSync(state.extensionsDir, { recursive: true });
  // A kept instance keeps whatever settings its user changed. The settings turn auto-save off: a web build of VS Code
  // (code-server) saves an edited file after a second by default, unlike the desktop, and a test that edits a fixture
  // and reverts it more than a second later would otherwise have written the fixture on disk.
  const settings = path.join(state.userDataDir, 'User', 'settings.json');
  if (!keep || !fs.existsSync(settings)) fs.copyFileSync(paths.settings, settings);
  return state;
}

/** Removes an instance's folders (after a passing run; a failed one keeps them for its log). */
export function discardState(state) {
  fs.rmSync(state.dir, { recursive: true, force: true });
}

/** Removes runs/<name>-<pid> folders whose process no longer exists. */
function pruneDeadRuns(name) {
  if (!fs.existsSync(paths.runs)) return;
  for (const entry of fs.readdirSync(paths.runs)) {
    const pid = Number(entry.startsWith(`${name}-`) ? entry.slice(name.length + 1) : NaN);
    if (Number.isInteger(pid) && pid > 0 && !isAlive(pid))
      fs.rmSync(path.join(paths.runs, entry), { recursive: true, force: true });
  }
}

function isAlive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return err.code === 'EPERM';
  }
}

/** `code-server --install-extension <vsix>` into the instance's extensions folder (works while it runs). */
export async function installExtension(state, vsix) {
  await run(
    paths.bin,
    [
      '--user-data-dir',
      state.userDataDir,
      '--extensions-dir',
      state.extensionsDir,
      '--force',
      '--install-extension',
      path.resolve(vsix),
    ],
    { env: codeServerEnv(), logFile: state.logFile },
  );
}

/**
 * Starts code-server on 127.0.0.1 (webviews need a secure context: 127.0.0.1 or localhost), on `port`
 * or a free one, and resolves once /healthz answers. `folder` is what the root URL opens. The result's
 * `exited` settles when code-server ends, by itself or by stop().
 */
export async function startCodeServer({ name, folder, state = prepareState(name), port = 0 }) {
  const args = [
    '--auth',
    'none',
    '--bind-addr',
    `127.0.0.1:${port}`,
    '--user-data-dir',
    state.userDataDir,
    '--extensions-dir',
    state.extensionsDir,
    '--disable-telemetry',
    '--disable-update-check',
    '--disable-workspace-trust',
    '--disable-getting-started-override',
    '--ignore-last-opened',
    ...(folder ? [path.resolve(folder)] : []),
  ];
  // The log is appended to (installs and earlier runs): only what this process writes counts.
  const logStart = fs.existsSync(state.logFile) ? fs.statSync(state.logFile).size : 0;
  const log = fs.openSync(state.logFile, 'a');
  const child = spawn(paths.bin, args, { env: codeServerEnv(), stdio: ['ignore', log, log], detached: true });
  fs.closeSync(log);
  const group = child.pid;
  let gone = false;
  let stopping = false;
  const exited = new Promise((resolve) =>
    child.on('exit', (code, signal) => {
      gone = true;
      resolve({ code: code ?? signal, stopped: stopping });
    }),
  );
  const spawnError = new Promise((_, reject) => child.on('error', reject));
  spawnError.catch(() => {}); // Only the start awaits it; a later 'error' must not be an unhandled rejection.

  const stop = async () => {
    stopping = true;
    running.delete(group);
    await killGroup(group, () => gone);
  };
  running.set(group, stop);

  try {
    const url = await Promise.race([waitForUrl(state.logFile, logStart, () => gone), spawnError]);
    await waitHealthy(url, () => gone);
    const host = new URL(url).host;
    return {
      url,
      host,
      pid: group,
      state,
      stop,
      /** Settles with `{ code, stopped }`: the exit code (or signal), and whether stop() caused it. */
      exited,
      /** The workbench URL that opens `dir` (absolute path on this machine). */
      folderUrl: (dir, query = '') => `${url}?folder=${encodeURIComponent(path.resolve(dir))}${query}`,
    };
  } catch (err) {
    await stop();
    throw new Error(
      `code-server did not start: ${err.message}\n--- ${state.logFile} ---\n${tailOf(state.logFile, 30)}`,
      { cause: err },
    );
  }
}

/** Reads the log from byte `from` until `HTTP server listening on http://127.0.0.1:NNNNN/` appears. */
async function waitForUrl(logFile, from, hasExited) {
  const deadline = Date.now() + LISTEN_TIMEOUT_MS;
  while (Date.now() < deadline) {
    const m = /HTTP server listening on (http:\/\/127\.0\.0\.1:\d+\/)/.exec(
      fs.readFileSync(logFile).subarray(from).toString('utf8'),
    );
    if (m) return m[1];
    if (hasExited()) throw new Error('it exited before listening');
    await sleep(100);
  }
  throw new Error(`no "HTTP server listening" line after ${LISTEN_TIMEOUT_MS / 1000}s`);
}

/** Polls /healthz until it answers 200. */
async function waitHealthy(url, hasExited) {
  const deadline = Date.now() + HEALTH_TIMEOUT_MS;
  let last = 'no answer';
  while (Date.now() < deadline) {
    if (hasExited()) throw new Error('it exited before /healthz answered');
    try {
      const res = await fetch(new URL('healthz', url), { signal: AbortSignal.timeout(2000) });
      if (res.ok) return;
      last = `HTTP ${res.status}`;
    } catch (err) {
      last = err.message;
    }
    await sleep(200);
  }
  throw new Error(`/healthz did not answer 200 within ${HEALTH_TIMEOUT_MS / 1000}s (${last})`);
}

/** SIGTERM to the whole group, then SIGKILL to whatever is left after a grace period. */
async function killGroup(group, hasExited) {
  if (!signalGroup(group, 'SIGTERM')) return;
  const deadline = Date.now() + STOP_GRACE_MS;
  while (Date.now() < deadline) {
    if (hasExited() && !signalGroup(group, 0)) return;
    await sleep(100);
  }
  signalGroup(group, 'SIGKILL');
}

/** Sends `signal` to a process group; false when the group no longer exists. */
function signalGroup(group, signal) {
  try {
    process.kill(-group, signal);
    return true;
  } catch {
    return false;
  }
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// Every server this process started and has not stopped yet: process group -> stop().
const running = new Map();

// On the way out, for whatever reason, no code-server survives us. `exit` handlers must be synchronous,
// so that one goes straight to SIGKILL; the others stop politely, then exit with the usual code.
process.on('exit', () => {
  for (const group of running.keys()) signalGroup(group, 'SIGKILL');
});
let shuttingDown = false;
async function shutdown(code) {
  if (shuttingDown) return;
  shuttingDown = true;
  await Promise.allSettled([...running.values()].map((stop) => stop()));
  process.exit(code);
}
for (const [signal, code] of [
  ['SIGINT', 130],
  ['SIGTERM', 143],
  ['SIGHUP', 129],
])
  process.once(signal, () => shutdown(code));
// A killed parent often passes nothing on (`npm start` gets SIGTERM, its `sh -c` dies silently): being
// re-parented means whoever started us is gone, so stop as if we got SIGTERM.
const parent = process.ppid;
setInterval(() => {
  if (process.ppid !== parent) void shutdown(143);
}, 1000).unref();
