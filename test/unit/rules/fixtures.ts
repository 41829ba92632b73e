/**
 * Golden rule fixtures: test/fixtures/rules/<code>/<case>/ holds one or more YAML files and `expected.json`,
 * the complete list of diagnostics (every code, not only the one under test) as
 * `[{code, line, column, file?}]` with 1-based line and column like `netpath lint` prints, `file` relative to
 * the case folder and left out for `topology.yaml`. Whole-cluster cases live under `clusters/`.
 * A case's entry files are its *.yaml/*.yml files at the top level; `include:` pulls in the rest.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { analysePaths, LineIndex, type Analysis, type Problem, type TextEdit } from '../../../src/core';
import { nodeFileHost } from '../../../src/cli/host';

export const FIXTURES = path.resolve(__dirname, '../../fixtures/rules');

export interface Expected {
  readonly code: string;
  readonly line: number;
  readonly column: number;
  readonly file?: string;
}

export interface Case {
  /** `<code>/<case>` */
  readonly name: string;
  readonly dir: string;
  readonly entries: readonly string[];
}

export function cases(): Case[] {
  const out: Case[] = [];
  for (const group of fs.readdirSync(FIXTURES).sort()) {
    const groupDir = path.join(FIXTURES, group);
    if (!fs.statSync(groupDir).isDirectory()) continue;
    for (const c of fs.readdirSync(groupDir).sort()) {
      const dir = path.join(groupDir, c);
      if (!fs.statSync(dir).isDirectory()) continue;
      const entries = fs
        .readdirSync(dir)
        .filter((f) => /\.(ya?ml|conflist|conf)$/.test(f))
        .sort()
        .map((f) => path.join(dir, f));
      out.push({ name: `${group}/${c}`, dir, entries });
    }
  }
  return out;
}

export async function analyseCase(c: Case, overrides?: ReadonlyMap<string, string>): Promise<Analysis> {
  return analysePaths(c.entries, nodeFileHost, overrides);
}

/** Where a problem is, the way expected.json says it. */
export function located(c: Case, p: Problem, texts: ReadonlyMap<string, string>): Expected {
  const pos = new LineIndex(texts.get(p.span.file) ?? '').positionAt(p.span.start);
  const file = path.relative(c.dir, p.span.file);
  return { code: p.code, line: pos.line + 1, column: pos.character + 1, ...(file === 'topology.yaml' ? {} : { file }) };
}

export function sortExpected(list: readonly Expected[]): Expected[] {
  return [...list].sort(
    (a, b) =>
      (a.file ?? '').localeCompare(b.file ?? '') ||
      a.line - b.line ||
      a.column - b.column ||
      a.code.localeCompare(b.code),
  );
}

export function textsOf(a: Analysis): Map<string, string> {
  return new Map(a.sources.map((s) => [s.path, s.text]));
}

/** Applies edits to the texts they touch, from the end of each file backwards so offsets stay valid. */
export function applyEdits(texts: ReadonlyMap<string, string>, edits: readonly TextEdit[]): Map<string, string> {
  const out = new Map(texts);
  const byFile = new Map<string, TextEdit[]>();
  for (const e of edits) byFile.set(e.span.file, [...(byFile.get(e.span.file) ?? []), e]);
  for (const [file, list] of byFile) {
    let text = out.get(file);
    assert.ok(text !== undefined, `edit in a file that was not read: ${file}`);
    for (const e of [...list].sort((a, b) => b.span.start - a.span.start))
      text = text.slice(0, e.span.start) + e.newText + text.slice(e.span.end);
    out.set(file, text);
  }
  return out;
}
