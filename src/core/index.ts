/**
 * The one entry point of the NetPath core. Editors and the CLI call these functions; everything else
 * in `src/core` is an implementation detail behind them.
 */
import type { Problem } from './problem';
import { buildTopology } from './model/build';
import type { Analysis } from './analysis';
import type { SourceFile, Topology } from './model/types';
import { runRules } from './rules';
import { loadTopologyFiles, type FileHost } from './workspace/load';

export type { Problem, Severity, Span, QuickFix, TextEdit, RelatedInformation } from './problem';
export type { Topology, SourceFile } from './model/types';
export type { FileHost } from './workspace/load';
export { LineIndex, type LineColumn } from './syntax/lines';
export { RULES } from './rules';
export { jsonSchema } from './model/schema';
export { loadTopologyFiles };
export { hoverAt, type Hover } from './hover';

export type { Analysis } from './analysis';

/** Builds the model from files already read and runs every rule. */
export function analyse(files: readonly SourceFile[]): Analysis {
  const built = buildTopology(files);
  const diagnostics = [...built.problems, ...runRules(built.topology)].sort(
    (a, b) => a.span.file.localeCompare(b.span.file) || a.span.start - b.span.start || a.code.localeCompare(b.code),
  );
  return { ...built, diagnostics };
}

/** Reads the entry files and their includes through `host`, then analyses them. */
export async function analysePaths(entries: readonly string[], host: FileHost, preloaded?: ReadonlyMap<string, string>): Promise<Analysis> {
  const loaded = await loadTopologyFiles(entries, host, preloaded);
  const analysis = analyse(loaded.files);
  return { ...analysis, diagnostics: [...loaded.problems, ...analysis.diagnostics] };
}

export function topologyOf(analysis: Analysis): Topology {
  return analysis.topology;
}
export { nodeRulesText } from './dataplane/node-rules';
