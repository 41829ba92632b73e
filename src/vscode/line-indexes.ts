/**
 * The line index of each analysed text, made once per analysis and file when first asked: publishing the
 * diagnostics, the outline and the lenses all turn offsets into positions on the same text. Each made its own
 * before, and publishing made one for every file read even when it had no diagnostic: two scans of a 2.5 MB file
 * (15,000 pods) on the extension host's thread after each analysis, 15-65 ms each on a loaded machine.
 */
import { LineIndex, type Analysis } from '../core';

const indexes = new WeakMap<Analysis, Map<string, LineIndex>>();

/** The line index of `file` as the analysis read it (or of `fallback()` when the analysis did not read it). */
export function linesOf(analysis: Analysis, file: string, fallback?: () => string): LineIndex {
  let byFile = indexes.get(analysis);
  if (!byFile) indexes.set(analysis, (byFile = new Map()));
  let lines = byFile.get(file);
  if (!lines) {
    lines = new LineIndex(analysis.sources.find((f) => f.path === file)?.text || (fallback?.() ?? ''));
    byFile.set(file, lines);
  }
  return lines;
}
