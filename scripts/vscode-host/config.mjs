// Where the test VS Code (code-server from npm) lives and how it is called.
// Everything here is under `.vscode-test/` (gitignored), so a clean clone installs it on demand
// and `rm -rf .vscode-test` resets it. Why code-server and not @vscode/test-electron: see install.mjs.
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** code-server 4.96.4 bundles VS Code 1.96.4: `engines.vscode` and `@types/vscode` must stay at or below 1.96. */
export const CODE_SERVER_VERSION = '4.96.4';

const testHome = path.join(repoRoot, '.vscode-test');

export const paths = {
  /** The npm project that holds code-server; the marker file says which version finished installing. */
  install: path.join(testHome, 'code-server'),
  marker: path.join(testHome, 'code-server', '.netpath-installed'),
  bin: path.join(testHome, 'code-server', 'node_modules', '.bin', 'code-server'),
  /** Scratch space for the install (npm's postinstall scripts and the ripgrep cache read $TMPDIR). */
  tmp: path.join(testHome, 'tmp'),
  /** Private XDG folders: without them code-server writes to ~/.config and ~/.local/share. */
  xdg: path.join(testHome, 'xdg'),
  /** Per-run state (user data, extensions, logs) lives in a fresh folder under here. */
  runs: path.join(testHome, 'runs'),
  /** User settings copied into every user-data-dir. */
  settings: path.join(path.dirname(fileURLToPath(import.meta.url)), 'settings.json'),
};

/**
 * The environment every code-server process gets: private XDG folders and no extension gallery,
 * so nothing reaches for $HOME or the marketplace.
 */
export function codeServerEnv(extra = {}) {
  return {
    ...process.env,
    XDG_CONFIG_HOME: path.join(paths.xdg, 'config'),
    XDG_DATA_HOME: path.join(paths.xdg, 'data'),
    XDG_CACHE_HOME: path.join(paths.xdg, 'cache'),
    EXTENSIONS_GALLERY: '{}',
    ...extra,
  };
}

/** Debian's Chromium, driven by playwright-core (which downloads no browser of its own). */
export const CHROMIUM = process.env.CHROME || '/usr/bin/chromium';
