// Installs code-server (VS Code in a browser, with a Node extension host) from npm into
// .vscode-test/code-server/, once. Usage: node scripts/vscode-host/install.mjs [--force]
//
// Why code-server: @vscode/test-electron downloads VS Code from Microsoft's update server, which CI
// machines cannot reach; the npm registry and Debian's packages are all there is. code-server's npm
// package needs three nudges to install here (as root, with no access to GitHub):
//   1. its postinstall refuses to run as root unless npm_config_unsafe_perm=true;
//   2. @vscode/ripgrep's postinstall downloads rg from GitHub unless a tarball is already in its cache
//      folder under $TMPDIR, so we put Debian's /usr/bin/rg there;
//   3. lib/vscode/npm-shrinkwrap.json pins @vscode/proxy-agent to a GitHub commit; the npm tarball of
//      0.27.0 has the same integrity hash, so we install without scripts, rewrite that URL, then rebuild.
// argon2, kerberos and node-pty then compile from source (their prebuilt downloads from GitHub fail and
// they fall back), which is why make, g++, python3 and libkrb5-dev are needed. The install is cached:
// a marker file holding the version is written last and checked first.
import fs from 'node:fs';
import { performance } from 'node:perf_hooks';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { CODE_SERVER_VERSION, codeServerEnv, paths } from './config.mjs';
import { capture, cleanNpmEnv, logger, run, seconds } from '../lib/proc.mjs';

const log = logger('code-server');

const RIPGREP = { pkg: '1.15.9', release: 'v13.0.0-10' };
const PROXY_AGENT = {
  pinned: 'git+ssh://git@github.com/microsoft/vscode-proxy-agent.git#0803e0a7d1249bcb64ae9d256d0ee732b7246ea5',
  tarball: 'https://registry.npmjs.org/@vscode/proxy-agent/-/proxy-agent-0.27.0.tgz',
};
/** Tools the native builds (argon2, kerberos, node-pty) and the ripgrep step need; Debian package in brackets. */
const PREREQUISITES = [
  { file: '/usr/bin/rg', deb: 'ripgrep' },
  { file: '/usr/bin/krb5-config', deb: 'libkrb5-dev' },
  { file: '/usr/bin/make', deb: 'make' },
  { file: '/usr/bin/g++', deb: 'g++' },
];

/** True when the cached install is complete and of the right version. */
export function isInstalled() {
  try {
    return fs.readFileSync(paths.marker, 'utf8').trim() === CODE_SERVER_VERSION && fs.existsSync(paths.bin);
  } catch {
    return false;
  }
}

/** Installs code-server unless the cached copy is complete; returns the path of its `code-server` binary. */
export async function ensureCodeServer({ force = false } = {}) {
  if (!force && isInstalled()) {
    log(`${CODE_SERVER_VERSION} already installed in ${path.relative(process.cwd(), paths.install) || '.'}`);
    return paths.bin;
  }
  const release = await acquireLock();
  try {
    // Another process may have finished the install while we waited for the lock.
    if (!force && isInstalled()) return paths.bin;
    await install();
    return paths.bin;
  } finally {
    release();
  }
}

async function install() {
  const t0 = performance.now();
  const missing = PREREQUISITES.filter((p) => !fs.existsSync(p.file));
  if (missing.length) {
    throw new Error(
      `cannot build code-server: missing ${missing.map((p) => p.file).join(', ')}; ` +
        `install them with: apt-get install -y ${missing.map((p) => p.deb).join(' ')}`,
    );
  }
  const dir = paths.install;
  const logFile = path.join(paths.tmp, 'install.log');
  log(`installing ${CODE_SERVER_VERSION} from npm into ${dir} (about a minute; log: ${logFile})`);

  // Start from scratch: a half-finished install (no marker) is not worth repairing.
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true });
  fs.mkdirSync(paths.tmp, { recursive: true });
  fs.writeFileSync(logFile, '');
  fs.writeFileSync(
    path.join(dir, 'package.json'),
    JSON.stringify({ name: 'netpath-vscode-test-host', version: '1.0.0', private: true }, null, 2) + '\n',
  );

  const env = { ...cleanNpmEnv(), npm_config_unsafe_perm: 'true', TMPDIR: paths.tmp };
  seedRipgrepCache(paths.tmp);

  await run('npm', ['install', '--ignore-scripts', '--no-audit', '--no-fund', `code-server@${CODE_SERVER_VERSION}`], {
    cwd: dir,
    env,
    logFile,
  });
  log(`downloaded (${seconds(t0)}s); building native modules`);

  rewriteProxyAgentPin(path.join(dir, 'node_modules/code-server/lib/vscode/npm-shrinkwrap.json'));
  // Runs argon2's build and code-server's postinstall (npm install in lib/vscode and its extensions).
  await run('npm', ['rebuild', '--foreground-scripts'], { cwd: dir, env, logFile });

  const vscodeModules = path.join(dir, 'node_modules/code-server/lib/vscode/node_modules');
  for (const built of ['@vscode/ripgrep/bin/rg', 'node-pty/build/Release/pty.node']) {
    if (!fs.existsSync(path.join(vscodeModules, built)))
      throw new Error(`code-server install incomplete: ${built} is missing (see ${logFile})`);
  }
  // The first call also logs that it wrote a default config file (into the private XDG folder).
  const output = await capture(paths.bin, ['--version'], { env: codeServerEnv() });
  const version = output.split('\n').find((line) => line.startsWith(CODE_SERVER_VERSION + ' '));
  if (!version) throw new Error(`unexpected code-server --version output: ${output}`);

  fs.writeFileSync(paths.marker, CODE_SERVER_VERSION + '\n');
  log(`installed ${version} in ${seconds(t0)}s`);
}

/** Puts a tarball of Debian's `rg` where @vscode/ripgrep's postinstall looks before downloading. */
function seedRipgrepCache(tmp) {
  const target = { x64: 'x86_64-unknown-linux-musl', arm64: 'aarch64-unknown-linux-musl' }[process.arch];
  if (!target) throw new Error(`no ripgrep target known for ${process.arch}`);
  const cache = path.join(tmp, `vscode-ripgrep-cache-${RIPGREP.pkg}`);
  fs.mkdirSync(cache, { recursive: true });
  const tarball = path.join(cache, `ripgrep-${RIPGREP.release}-${target}.tar.gz`);
  return run('tar', ['czf', tarball, '-C', '/usr/bin', 'rg']);
}

/** Points the shrinkwrap's GitHub pin of @vscode/proxy-agent at the identical npm tarball. */
function rewriteProxyAgentPin(shrinkwrap) {
  const text = fs.readFileSync(shrinkwrap, 'utf8');
  if (text.includes(PROXY_AGENT.tarball)) return;
  if (!text.includes(PROXY_AGENT.pinned))
    throw new Error(`${shrinkwrap} no longer pins ${PROXY_AGENT.pinned}; update install.mjs`);
  fs.writeFileSync(shrinkwrap, text.replaceAll(PROXY_AGENT.pinned, PROXY_AGENT.tarball));
}

/**
 * A lock folder so two scripts (say `npm start` and `npm test` in two terminals) never install at once.
 * A lock left by a dead process is taken over.
 */
async function acquireLock() {
  const lock = `${paths.install}.lock`;
  fs.mkdirSync(path.dirname(lock), { recursive: true });
  const deadline = Date.now() + 10 * 60_000;
  for (;;) {
    try {
      fs.mkdirSync(lock);
      fs.writeFileSync(path.join(lock, 'pid'), String(process.pid));
      return () => fs.rmSync(lock, { recursive: true, force: true });
    } catch (err) {
      if (err.code !== 'EEXIST') throw err;
    }
    const owner = lockOwner(lock);
    // No pid yet means the owner is between mkdir and writing it: wait, unless the lock is old.
    const stale = owner === 0 ? Date.now() - lockCreatedAt(lock) > 30_000 : !isAlive(owner);
    if (stale) {
      fs.rmSync(lock, { recursive: true, force: true });
      continue;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for the install by process ${owner} (${lock})`);
    log(`waiting for process ${owner || '?'}, which is installing code-server`);
    await new Promise((r) => setTimeout(r, 5000));
  }
}

function lockOwner(lock) {
  try {
    return Number(fs.readFileSync(path.join(lock, 'pid'), 'utf8')) || 0;
  } catch {
    return 0;
  }
}

function lockCreatedAt(lock) {
  try {
    return fs.statSync(lock).mtimeMs;
  } catch {
    return 0;
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

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  try {
    await ensureCodeServer({ force: process.argv.includes('--force') });
  } catch (err) {
    console.error(`[code-server] ${err.message}`);
    process.exit(1);
  }
}
