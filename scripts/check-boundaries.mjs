// Fails the build when a layer imports something it must not (see docs/architecture.md):
//   src/core     -> no `vscode`, no DOM globals, no Node built-ins, nothing outside src/core
//   src/protocol -> types only, imports only from src/core and itself
//   src/webview  -> no `vscode`, no Node built-ins
//   src/cli      -> no `vscode`
//   src/lab      -> no `vscode`, nothing but src/core, src/protocol (the report's types) and itself
//                   (never src/cli, src/vscode, src/webview)
import fs from 'node:fs';
import path from 'node:path';
import { builtinModules } from 'node:module';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const nodeBuiltins = new Set(builtinModules.flatMap((m) => [m, `node:${m}`]));
// Property access on a DOM global (`document.body`), not a method that happens to share the name.
const domGlobals =
  /(?<![\w.$])(?:window|document|navigator|localStorage)\s*\.|(?<![\w.$])acquireVsCodeApi\s*\(|\bHTMLElement\b/;

function* files(dir) {
  if (!fs.existsSync(dir)) return;
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name);
    if (entry.isDirectory()) yield* files(p);
    else if (/\.(ts|tsx|mts)$/.test(entry.name)) yield p;
  }
}

function importsOf(source) {
  const specs = [];
  const re =
    /(?:^|\n)\s*(?:import|export)\b[^'"]*?from\s*['"]([^'"]+)['"]|\bimport\s*\(\s*['"]([^'"]+)['"]\s*\)|\brequire\s*\(\s*['"]([^'"]+)['"]\s*\)|(?:^|\n)\s*import\s*['"]([^'"]+)['"]/g;
  for (const m of source.matchAll(re)) specs.push(m[1] ?? m[2] ?? m[3] ?? m[4]);
  return specs;
}

const layers = [
  {
    dir: 'src/core',
    check(spec, file) {
      if (spec === 'vscode') return 'imports vscode';
      if (nodeBuiltins.has(spec)) return `imports the Node built-in ${spec}`;
      if (spec.startsWith('.') && !path.resolve(path.dirname(file), spec).startsWith(path.join(root, 'src/core')))
        return `imports ${spec} from outside src/core`;
      return null;
    },
    dom: true,
  },
  {
    dir: 'src/protocol',
    check(spec, file) {
      if (!spec.startsWith('.')) return `imports the package ${spec} (protocol is types only)`;
      const target = path.resolve(path.dirname(file), spec);
      return target.startsWith(path.join(root, 'src/core')) || target.startsWith(path.join(root, 'src/protocol'))
        ? null
        : `imports ${spec}`;
    },
  },
  {
    dir: 'src/webview',
    check: (spec) =>
      spec === 'vscode' ? 'imports vscode' : nodeBuiltins.has(spec) ? `imports the Node built-in ${spec}` : null,
  },
  { dir: 'src/cli', check: (spec) => (spec === 'vscode' ? 'imports vscode' : null) },
  {
    dir: 'src/lab',
    check(spec, file) {
      if (spec === 'vscode') return 'imports vscode';
      if (
        spec.startsWith('.') &&
        !path.resolve(path.dirname(file), spec).startsWith(path.join(root, 'src/lab')) &&
        !path.resolve(path.dirname(file), spec).startsWith(path.join(root, 'src/core')) &&
        !path.resolve(path.dirname(file), spec).startsWith(path.join(root, 'src/protocol'))
      )
        return `imports ${spec} (src/lab uses only src/core, src/protocol and itself; the CLI and the editor import the lab, not the reverse)`;
      return null;
    },
  },
];

const violations = [];
for (const layer of layers) {
  for (const file of files(path.join(root, layer.dir))) {
    const source = fs.readFileSync(file, 'utf8');
    for (const spec of importsOf(source)) {
      const why = layer.check(spec, file);
      if (why) violations.push(`${path.relative(root, file)}: ${why}`);
    }
    if (layer.dom) {
      const code = source.replace(/\/\/.*$/gm, '').replace(/\/\*[\s\S]*?\*\//g, '');
      const m = domGlobals.exec(code);
      if (m) violations.push(`${path.relative(root, file)}: uses the DOM global ${m[0].trim()}`);
    }
  }
}
if (violations.length) {
  console.error('Layer boundaries broken:\n  ' + violations.join('\n  '));
  process.exit(1);
}
console.log('[boundaries] src/core, src/protocol, src/webview, src/cli, src/lab respect their layers');
