/**
 * The line index of each analysed text, made once per analysis and file when first asked: publishing the
 * diagnostics, the outline and the lenses all turn offsets into positions on the same text. Each made its own
 * before, and publishing made one for every file read even when it had no diagnostic: two scans of a 2.5 MB file
 * (15,000 pods) on the extension host's thread after each analysis, 15-65 ms each on a loaded machine.
 *
 * An open document still at the version an analysis read needs none (positionsOf): VS Code keeps the document's line
 * starts as it is edited, so publishing an edit's diagnostics scans nothing (issue 16: the scan was on the way from
 * the worker's model stage to the squiggles, 11-30 ms for 15,000 pods on a loaded machine).
 */
import { LineIndex, type Analysis, type SourceFile } from '../core';

/** Keyed by the files an analysis read (the same array from the worker's first answer to the analysis itself). */
const indexes = new WeakMap<readonly SourceFile[], Map<string, LineIndex>>();

/** The version of each open document an analysis read, by path (keyed like `indexes`). */
const versionsRead = new WeakMap<readonly SourceFile[], ReadonlyMap<string, number>>();

/** Line indexes made since the extension started, by file (its tests read them through Analyses). */
const made = new Map<string, number>();
/** Line indexes made of `file` since the extension started: a test asks about its own document, not the others open. */
export const lineIndexesMade = (file: string): number => made.get(file) ?? 0;

/** Turns offsets of an analysed text into positions: a LineIndex, or the open document itself. */
export type Positions = Pick<LineIndex, 'positionAt'>;

/** An open document as positionsOf needs it (vscode.TextDocument is one; no `vscode` import here). */
export interface OpenDocument extends Positions {
  readonly version: number;
}

/** Records the versions of the open documents whose text an analysis read (see positionsOf). */
export function rememberVersions(sources: readonly SourceFile[], versions: ReadonlyMap<string, number>): void {
  versionsRead.set(sources, versions);
}

/** The line index of `file` as the analysis read it (or of `fallback()` when the analysis did not read it). */
export function linesOf(read: Analysis | readonly SourceFile[], file: string, fallback?: () => string): LineIndex {
  const sources = 'sources' in read ? read.sources : read;
  let byFile = indexes.get(sources);
  if (!byFile) indexes.set(sources, (byFile = new Map()));
  let lines = byFile.get(file);
  if (!lines) {
    made.set(file, (made.get(file) ?? 0) + 1);
    lines = new LineIndex(sources.find((f) => f.path === file)?.text || (fallback?.() ?? ''));
    byFile.set(file, lines);
  }
  return lines;
}

/**
 * Positions in `file` as the analysis read it: the open document's own while it is at the version the analysis read
 * (the same text), else those of linesOf.
 */
export function positionsOf(
  read: Analysis | readonly SourceFile[],
  file: string,
  openDocument: (path: string) => OpenDocument | undefined,
  fallback?: () => string,
): Positions {
  const sources = 'sources' in read ? read.sources : read;
  const version = versionsRead.get(sources)?.get(file);
  const doc = version === undefined ? undefined : openDocument(file);
  return doc && doc.version === version ? doc : linesOf(read, file, fallback);
}
