/**
 * The analysis worker's parse of each file, kept until the file's text changes: while someone types in one file of a
 * topology, each analysis parses that file again and reuses the others' parse (the model and the rules still run on
 * the whole topology). An edit inside one list item (a pod, a Service, a node) re-reads only that item's lines
 * (incremental-parse.ts). No `vscode` import: the worker loads it.
 */
import type { SourceFile } from '../core';
import { parseYamlFile, type ParsedFile } from '../core/syntax/yaml';
import { reparseEdit } from './incremental-parse';

export class ParseCache {
  private readonly kept = new Map<string, { readonly text: string; readonly parsed: ParsedFile }>();
  /** Files parsed and files reused since the last `forgetOthers` (the log reports them). */
  parsed = 0;
  reused = 0;
  /** Of the files parsed, those re-read only in the list item their edit is in; and the characters read in all. */
  partly = 0;
  charsRead = 0;

  /** The parse of a file: the kept one when its text is the same, else a new one (kept in its place). */
  readonly parse = (file: SourceFile): ParsedFile => {
    const hit = this.kept.get(file.path);
    if (hit && hit.text === file.text) {
      this.reused++;
      return hit.parsed;
    }
    this.parsed++;
    const edited = hit && reparseEdit(file.path, hit.text, hit.parsed, file.text);
    if (edited) this.partly++;
    this.charsRead += edited ? edited.charsRead : file.text.length;
    const parsed = edited ? edited.parsed : parseYamlFile(file.path, file.text);
    this.kept.set(file.path, { text: file.text, parsed });
    return parsed;
  };

  /** Keeps only the files of the analysis about to run (a file no longer read costs no memory) and resets the counts. */
  forgetOthers(files: readonly SourceFile[]): void {
    const paths = new Set(files.map((f) => f.path));
    for (const path of this.kept.keys()) if (!paths.has(path)) this.kept.delete(path);
    this.parsed = 0;
    this.reused = 0;
    this.partly = 0;
    this.charsRead = 0;
  }
}
