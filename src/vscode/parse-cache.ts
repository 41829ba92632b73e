/**
 * The analysis worker's parse of each file, kept until the file's text changes: while someone types in one file of a
 * topology, each analysis parses that file again and reuses the others' parse (the model and the rules still run on
 * the whole topology). No `vscode` import: the worker loads it.
 */
import type { SourceFile } from '../core';
import { parseYamlFile, type ParsedFile } from '../core/syntax/yaml';

export class ParseCache {
  private readonly kept = new Map<string, { readonly text: string; readonly parsed: ParsedFile }>();
  /** Files parsed and files reused since the last `forgetOthers` (the log reports them). */
  parsed = 0;
  reused = 0;

  /** The parse of a file: the kept one when its text is the same, else a new one (kept in its place). */
  readonly parse = (file: SourceFile): ParsedFile => {
    const hit = this.kept.get(file.path);
    if (hit && hit.text === file.text) {
      this.reused++;
      return hit.parsed;
    }
    const parsed = parseYamlFile(file.path, file.text);
    this.kept.set(file.path, { text: file.text, parsed });
    this.parsed++;
    return parsed;
  };

  /** Keeps only the files of the analysis about to run (a file no longer read costs no memory) and resets the counts. */
  forgetOthers(files: readonly SourceFile[]): void {
    const paths = new Set(files.map((f) => f.path));
    for (const path of this.kept.keys()) if (!paths.has(path)) this.kept.delete(path);
    this.parsed = 0;
    this.reused = 0;
  }
}
