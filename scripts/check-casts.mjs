// Fails the build when a type assertion (`x as T`, `<T>x`) appears in src/core, src/protocol or src/cli that is not
// in scripts/casts-allowed.json (issue 17). A cast tells the compiler to trust a value; on a value that came from a
// file, a command line or a webview message that trust is how a typo turns into a crash or a silently wrong answer.
// Such values are checked instead (a problem with a span, a typed refusal, a type guard the compiler follows).
// The allow-list holds the casts that are safe, each with why: per file, the cast's text (whitespace collapsed) and a
// reason. `as const` is never a cast of a value and is not listed. A listed cast no longer in its file fails too, so
// the list stays the audit of what is there.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

// NETPATH_CASTS_ROOT: another tree to check (the script's own test), else this repository.
const root = process.env.NETPATH_CASTS_ROOT ?? path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const DIRS = ['src/core', 'src/protocol', 'src/cli'];
const LIST = 'scripts/casts-allowed.json';

function* files(dir) {
  if (!fs.existsSync(dir)) return;
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name);
    if (entry.isDirectory()) yield* files(p);
    else if (/\.ts$/.test(entry.name) && !entry.name.endsWith('.d.ts')) yield p;
  }
}

/** Every type assertion of a file but `as const`: its text (whitespace collapsed) and line. */
function castsOf(file) {
  const text = fs.readFileSync(file, 'utf8');
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true);
  const out = [];
  const isCast = (node) =>
    (ts.isAsExpression(node) || ts.isTypeAssertionExpression(node)) && node.type.getText(source) !== 'const';
  // `x as unknown as T` is one cast: the inner `x as unknown` is not listed on its own.
  const visit = (node, innerOfCast) => {
    const cast = isCast(node);
    if (cast && !innerOfCast) {
      const line = source.getLineAndCharacterOfPosition(node.getStart(source)).line + 1;
      out.push({ cast: node.getText(source).replace(/\s+/g, ' '), line });
    }
    ts.forEachChild(node, (child) => visit(child, cast && child === node.expression && isCast(child)));
  };
  visit(source, false);
  return out;
}

const allowed = JSON.parse(fs.readFileSync(path.join(root, LIST), 'utf8'));
const failures = [];
const seen = new Set();
let total = 0;
for (const dir of DIRS)
  for (const abs of files(path.join(root, dir))) {
    const rel = path.relative(root, abs).split(path.sep).join('/');
    for (const { cast, line } of castsOf(abs)) {
      total++;
      const why = allowed[rel]?.[cast];
      if (typeof why === 'string' && why.trim()) seen.add(`${rel}\0${cast}`);
      else failures.push(`${rel}:${line}: unchecked cast '${cast}'`);
    }
  }
for (const [file, casts] of Object.entries(allowed))
  for (const cast of Object.keys(casts))
    if (!seen.has(`${file}\0${cast}`)) failures.push(`${LIST}: '${cast}' is listed for ${file} but not there any more`);

if (failures.length) {
  console.error(failures.join('\n'));
  console.error(
    `[casts] ${failures.length} problem(s). Check a value from input instead of casting it (a problem, a typed refusal, ` +
      `a type guard); a cast that is safe goes in ${LIST} with the reason.`,
  );
  process.exit(1);
}
console.log(`[casts] ${total} type assertions in ${DIRS.join(', ')}, each listed with why it is safe`);
