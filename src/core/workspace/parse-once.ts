/**
 * One command's parses, kept between loading a topology and analysing it. The loader parses a NetPath document that
 * says `include` to find its includes, and grouping, loading and the analysis each parsed it again. Made per command,
 * like the CLI's read-once host: a kept parse is of one text, and a file's text can change between commands.
 */
import type { SourceFile } from '../model/types';
import { parseYamlFile, type ParsedFile } from '../syntax/yaml';

export class ParsedOnce {
  private readonly kept = new Map<string, { readonly text: string; readonly parsed: ParsedFile }>();

  /** The loader's parse: kept for the analysis that follows (and for another load of the same file). */
  readonly parse = (file: SourceFile): ParsedFile => {
    const hit = this.kept.get(file.path);
    if (hit && hit.text === file.text) return hit.parsed;
    const parsed = parseYamlFile(file.path, file.text);
    this.kept.set(file.path, { text: file.text, parsed });
    return parsed;
  };

  /**
   * The analysis's parse: the kept one, which is let go here (the trees are the largest thing an analysis holds,
   * and `lintFiles` lets them go before its rules run), or a new one that is not kept.
   */
  readonly take = (file: SourceFile): ParsedFile => {
    const hit = this.kept.get(file.path);
    this.kept.delete(file.path);
    return hit && hit.text === file.text ? hit.parsed : parseYamlFile(file.path, file.text);
  };
}
