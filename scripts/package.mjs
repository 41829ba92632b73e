// `npm run package`: production build, then `vsce package` to netpath-<version>.vsix, then a check that
// the .vsix holds exactly what the extension loads at run time. Usage: node scripts/package.mjs
//
// Why the check: a hand-kept .vscodeignore drifts from what the code loads (a webview script left out
// shows a blank panel only after installing). The expected list is computed from the repository, not
// kept by hand: package.json, README.md, CHANGELOG.md, LICENSE, the `main` bundle, every built webview
// script, media/, syntaxes/, schemas/*.json, plus every file package.json points at. Nothing else may
// be in it: no sources, tests, node_modules or source maps. The ui test tier then installs this very
// .vsix into code-server.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { zipEntries } from './lib/zip.mjs';
import { capture, logger, run } from './lib/proc.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const log = logger('package');
const DOCS = ['README.md', 'CHANGELOG.md', 'LICENSE'];
/** Folders shipped whole (their files, recursively); a folder that does not exist ships nothing. */
const SHIPPED_FOLDERS = ['media', 'syntaxes'];
/** The names vsce gives the documents inside the .vsix. */
const VSCE_RENAMES = { 'readme.md': 'README.md', 'changelog.md': 'CHANGELOG.md', 'LICENSE.txt': 'LICENSE' };
/** Never in a .vsix, whatever the lists above say. */
const FORBIDDEN = [/^src\//, /^test\//, /^out\//, /^scripts\//, /node_modules\//, /\.map$/, /\.ts$/, /^\.vscode/];

/** Builds, packages and checks; returns the path of the .vsix. */
export async function packageExtension() {
  const manifest = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'));
  const missingDocs = DOCS.filter((f) => !fs.existsSync(path.join(root, f)));
  if (missingDocs.length) throw new Error(`cannot package without ${missingDocs.join(', ')} at the repository root`);

  await run(process.execPath, [path.join(root, 'scripts/build.mjs'), '--production'], { cwd: root });
  const vsix = path.join(root, `${manifest.name}-${manifest.version}.vsix`);
  fs.rmSync(vsix, { force: true });
  // --no-dependencies: the bundles already contain every dependency.
  // --no-rewrite-relative-links: the repository is not on GitHub, so vsce could not rewrite them anyway.
  // Its output (a tree of every packaged file) is captured, not printed: the check below says the same in
  // one line, and a failure still shows vsce's error.
  await capture(
    process.execPath,
    [
      path.join(root, 'node_modules/@vscode/vsce/vsce'),
      'package',
      '--no-dependencies',
      '--no-rewrite-relative-links',
      '--out',
      vsix,
    ],
    { cwd: root },
  );

  const problems = checkContents(zipEntries(vsix), expectedFiles(manifest));
  if (problems.length) {
    throw new Error(
      `${path.basename(vsix)} does not hold exactly what the extension loads:\n  ${problems.join('\n  ')}\n` +
        'Fix .vscodeignore (or the list in scripts/package.mjs if the extension now loads something new).',
    );
  }
  log(
    `${path.relative(process.cwd(), vsix)} holds exactly the run-time files (${(fs.statSync(vsix).size / 1024).toFixed(0)} KiB)`,
  );
  return vsix;
}

/** Repository-relative paths of every file the .vsix must contain. */
function expectedFiles(manifest) {
  const files = new Set(['package.json', ...DOCS, normalise(manifest.main), 'dist/analysis-worker.js']);
  for (const f of filesUnder('dist/webview')) if (!f.endsWith('.map')) files.add(f);
  for (const dir of SHIPPED_FOLDERS) for (const f of filesUnder(dir)) files.add(f);
  for (const f of filesUnder('schemas')) if (f.endsWith('.json')) files.add(f);
  for (const ref of referencedFiles(manifest)) files.add(ref);
  return files;
}

/** Paths that package.json itself points at: icons, grammars, schemas, snippets, walkthrough media. */
function referencedFiles(manifest) {
  const refs = [];
  const visit = (value, key) => {
    if (typeof value === 'string') {
      if (
        ['path', 'url', 'icon', 'light', 'dark', 'markdown', 'image', 'svg'].includes(key) &&
        /^\.?\.?\//.test(value) &&
        !value.startsWith('//')
      ) {
        refs.push(normalise(value));
      }
    } else if (Array.isArray(value)) value.forEach((v) => visit(v, key));
    else if (value && typeof value === 'object') for (const [k, v] of Object.entries(value)) visit(v, k);
  };
  visit(manifest.contributes ?? {}, 'contributes');
  if (manifest.icon) refs.push(normalise(manifest.icon));
  return refs;
}

/** Differences between the entries of the .vsix and the expected files, as readable lines. */
function checkContents(entries, expected) {
  // vsce stores the extension under extension/, renames the three documents and adds two manifests.
  const shipped = entries
    .filter((e) => !['extension.vsixmanifest', '[Content_Types].xml'].includes(e) && !e.endsWith('/'))
    .map((e) => e.replace(/^extension\//, ''))
    .map((e) => VSCE_RENAMES[e] ?? e);
  const actual = new Set(shipped);
  const problems = [];
  for (const f of expected) if (!actual.has(f)) problems.push(`missing:    ${f}`);
  for (const f of actual) {
    if (FORBIDDEN.some((re) => re.test(f))) problems.push(`forbidden:  ${f}`);
    else if (!expected.has(f)) problems.push(`unexpected: ${f}`);
  }
  return problems.sort();
}

function filesUnder(dir) {
  const abs = path.join(root, dir);
  if (!fs.existsSync(abs)) return [];
  return fs
    .readdirSync(abs, { recursive: true, withFileTypes: true })
    .filter((d) => d.isFile())
    .map((d) =>
      path
        .relative(root, path.join(d.parentPath ?? d.path, d.name))
        .split(path.sep)
        .join('/'),
    );
}

const normalise = (p) => path.posix.normalize(p).replace(/^\.\//, '');

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  try {
    await packageExtension();
  } catch (err) {
    console.error(`[package] ${err.message}`);
    process.exit(1);
  }
}
