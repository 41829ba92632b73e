/**
 * The line index of each analysed text, made once per analysis and file when first asked: publishing the
 * diagnostics, the outline and the lenses all turn offsets into positions on the same text. Each made its own
 * before, and publishing made one for every file read even when it had no diagnostic: two scans of a 2.5 MB file
 * (15,000 pods) on the extension host's thread after each analysis, 15-65 ms each on a loaded machine.
 */
import { LineIndex, type Analysis, type SourceFile } from '../core';

/** Keyed by the files an analysis read (the same array from the worker's first answer to the analysis itself). */
const indexes = new WeakMap<readonly SourceFile[], Map<string, LineIndex>>();

/** The line index of `file` as the analysis read it (or of `fallback()` when the analysis did not read it). */
export function linesOf(read: Analysis | readonly SourceFile[], file: string, fallback?: () => string): LineIndex {
  const sources = 'sources' in read ? read.sources : read;
  let byFile = indexes.get(sources);
  if (!byFile) indexes.set(sources, (byFile = new Map()));
  let lines = byFile.get(file);
  if (!lines) {
    lines = new LineIndex(sources.find((f) => f.path === file)?.text || (fallback?.() ?? ''));
    byFile.set(file, lines);
  }
  return lines;
}
