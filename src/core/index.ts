/**
 * The one entry point of the NetPath core. Editors and the CLI call these functions; everything else
 * in `src/core` is an implementation detail behind them.
 */
import { buildTopology } from './model/build';
import type { Analysis } from './analysis';
import type { Problem } from './problem';
import { fileInventory, type FileInventory } from './model/inventory';
import type { SourceFile, Topology } from './model/types';
import type { PolicyOptions } from './policy/types';
import type { ParsedFile } from './syntax/yaml';
import { ParsedOnce } from './workspace/parse-once';
import { applySeverity, runRules, type SeverityOverrides } from './rules';
import { loadTopologyFiles, type FileHost, type LoadOptions } from './workspace/load';
import { compileDataPlane as compile } from './dataplane/compile';
import type { DataPlane as CompiledDataPlane } from './dataplane/types';
import { dataPlaneProblems } from './dataplane/problems';

export type { Problem, Severity, Span, QuickFix, TextEdit, RelatedInformation } from './problem';
export type { Topology, SourceFile } from './model/types';
export type { FileHost, LoadOptions, LoadResult } from './workspace/load';
export { DEFAULT_MAX_FILE_BYTES, DEFAULT_MAX_FILES, isInside } from './workspace/load';
export { LineIndex, type LineColumn } from './syntax/lines';
export { escapeControls, escapeDeep, escapeOutput, quoted, QUOTED_MAX } from './syntax/escape';
export { RULES, DIAGNOSTIC_CODES, DATAPLANE_CODES, type CodeInfo, type SeverityOverrides } from './rules';
export { jsonSchema } from './model/schema';
export { loadTopologyFiles };
export { ParsedOnce } from './workspace/parse-once';
export type { ParsedFile } from './syntax/yaml';
export {
  FOLDER_FILE_HEAD_BYTES,
  groupOf,
  groupTopologies,
  isFolderFile,
  isNetPathDocument,
  isManifestFile,
  kubernetesJsonKind,
  looksLikeManifest,
  NETPATH_FILE,
  type TopologyGroup,
} from './workspace/topologies';
export { hoverAt, type Hover } from './hover';
export { fileInventory, inventory, type FileInventory, type Inventory } from './model/inventory';

export type { Analysis } from './analysis';

/** How to analyse: per-code severity overrides (`off` drops a code), as the editor settings and the CLI give them. */
export interface AnalyseOptions {
  readonly severity?: SeverityOverrides;
  /**
   * The editor's NetworkPolicy settings: the choices where the topology's `cluster.networkPolicy` says nothing
   * (docs/network-policy.md). Kept in the model (`cluster.networkPolicy.settings`) so every rule, hover, trace
   * and matrix of this analysis reads the same choices.
   */
  readonly policySettings?: Partial<PolicyOptions>;
  /**
   * How to parse a file (default: parseYamlFile). The editor's analysis worker passes one that keeps the parse of
   * each file until its text changes, so an edit re-parses only the file it touched. Must return what
   * parseYamlFile would: the model only reads the result.
   */
  readonly parse?: (file: SourceFile) => ParsedFile;
  /**
   * Called between the steps of the analysis (after the model is built, before each rule); what it throws ends the
   * analysis. The editor's worker throws when the analysis was cancelled (a newer edit), so its thread, with its
   * parse cache and compiled code, lives on to analyse the newer text.
   */
  readonly checkpoint?: () => void;
  /**
   * Called once, with the model's problems and those of the rules that read no data plane, before the data plane
   * is compiled for the rules that do (nat.*, route.loop) and its own problems are found: the editor shows these
   * first. Each problem given is also in the analysis's diagnostics, as the same object.
   */
  readonly onModelStage?: (diagnostics: readonly Problem[]) => void;
}

/** How {@link analysePaths} reads and analyses: the workspace and bounds of the loader, and severity overrides. */
export interface AnalysePathsOptions extends AnalyseOptions, LoadOptions {}

/** Builds the model from files already read and runs every rule. */
export function analyse(files: readonly SourceFile[], options: AnalyseOptions = {}): Analysis {
  const built = buildModel(files, options);
  options.checkpoint?.();
  return { ...built, diagnostics: diagnose(built, files, options) };
}

/** What {@link lintFiles} returns: every diagnostic, and what each file holds (for "nothing to check" answers). */
export interface LintResult {
  readonly diagnostics: readonly Problem[];
  readonly read: readonly FileInventory[];
}

/**
 * The diagnostics of {@link analyse} for a caller that needs nothing else of the analysis (`netpath lint`): the
 * files' syntax trees are let go once the model is built, before the rules run. They are the largest thing an
 * analysis holds (a 115 MB kubectl List dump of 150,000 pods parses into about 1.3 GB of them), and the rules
 * compile node rulesets on top of what is still held.
 */
export function lintFiles(files: readonly SourceFile[], options: AnalyseOptions = {}): LintResult {
  const { model, read } = modelAndInventory(files, options);
  options.checkpoint?.();
  return { diagnostics: diagnose(model, files, options), read };
}

/** The model and each file's inventory; the syntax trees they were read from are not kept past this call. */
function modelAndInventory(
  files: readonly SourceFile[],
  options: AnalyseOptions,
): { model: Pick<Analysis, 'topology' | 'problems'>; read: FileInventory[] } {
  const built = buildModel(files, options);
  return { model: { topology: built.topology, problems: built.problems }, read: built.parsed.map(fileInventory) };
}

/** The model of the files (parsed with options.parse when given), with the editor's NetworkPolicy settings. */
function buildModel(files: readonly SourceFile[], options: AnalyseOptions) {
  return withPolicySettings(
    buildTopology(files, options.parse ? files.map(options.parse) : undefined),
    options.policySettings,
  );
}

/** The model's problems, every rule's diagnostics and the data plane's own problems, sorted by file and offset. */
function diagnose(
  built: Pick<Analysis, 'topology' | 'problems'>,
  files: readonly SourceFile[],
  options: AnalyseOptions,
): Problem[] {
  const texts = new Map(files.map((f) => [f.path, f.text]));
  // The data plane is compiled once, and only when a rule that reads it is on; node rulesets compile as traces reach them.
  let compiled: CompiledDataPlane | undefined;
  const dataplane = (): CompiledDataPlane => (compiled ??= compile(built.topology, { files: texts }));
  const modelProblems = applySeverity(built.problems, options.severity);
  const onModelStage = options.onModelStage;
  const found = [
    ...modelProblems,
    ...runRules(built.topology, {
      ...options,
      dataplane,
      texts,
      ...(onModelStage ? { beforeDataplane: (first) => onModelStage([...modelProblems, ...first]) } : {}),
    }),
  ];
  options.checkpoint?.();
  // The data plane's own problems (raw iptables text, routes the kernel refuses), unless a rule already said it at the spot.
  const taken = new Set(found.filter((p) => p.severity === 'error').map((p) => `${p.span.file}|${p.span.start}`));
  const own = dataPlaneProblems(
    built.topology,
    compiled ?? (built.topology.nodes.some((n) => n.routes.some((r) => !r.dev)) ? dataplane() : undefined),
    texts,
  );
  return [
    ...found,
    ...applySeverity(
      own.filter((p) => !taken.has(`${p.span.file}|${p.span.start}`)),
      options.severity,
    ),
  ].sort(
    (a, b) => a.span.file.localeCompare(b.span.file) || a.span.start - b.span.start || a.code.localeCompare(b.code),
  );
}

/** The model with the editor's NetworkPolicy settings kept in it (see AnalyseOptions.policySettings). */
export function withPolicySettings<T extends { readonly topology: Topology }>(
  built: T,
  settings?: Partial<PolicyOptions>,
): T {
  if (!settings || (!settings.ipBlockPodIPs && !settings.nodeTraffic)) return built;
  const t = built.topology;
  const cluster = { ...t.cluster, networkPolicy: { ...t.cluster.networkPolicy, settings: { ...settings } } };
  return { ...built, topology: { ...t, cluster } };
}

/** Reads the entry files and their includes through `host`, then analyses them. */
export async function analysePaths(
  entries: readonly string[],
  host: FileHost,
  preloaded?: ReadonlyMap<string, string>,
  options: AnalysePathsOptions = {},
): Promise<Analysis> {
  // What loading parses (a file that says `include`) is analysed as it was parsed, not parsed again.
  const once = host.parse || options.parse ? undefined : new ParsedOnce();
  const loaded = await loadTopologyFiles(entries, once ? { ...host, parse: once.parse } : host, preloaded, options);
  const analysis = analyse(loaded.files, once ? { ...options, parse: once.take } : options);
  return { ...analysis, diagnostics: [...applySeverity(loaded.problems, options.severity), ...analysis.diagnostics] };
}

export { nodeRulesText, nodeRulesParts } from './dataplane/node-rules';
export { MAX_TRACE_PATHS } from './branches';
export { compileDataPlane, type DataPlane, type CompileOptions } from './dataplane';
export {
  traceFlow,
  formatTraceText,
  parseEndpoint,
  TRACE_BAD_INPUT,
  TRACE_TOO_MANY_BRANCHES,
  type TraceOutcome,
  type TraceInputError,
  type TraceInputField,
  type TraceRequest,
  type TraceResult,
  type TracePath,
  type TraceProto,
  type Hop,
  type Step,
  type Disposition,
  type Reason,
} from './trace';
export { sourceChoices, destinationChoices, type EndpointChoice } from './catalog/endpoints';
export {
  documentSymbols,
  flattenSymbols,
  definitionsAt,
  referencesAt,
  completionsAt,
  traceLenses,
  type DocumentSymbol,
  type DocumentSymbolKind,
  type CompletionItem,
  type CompletionKind,
  type TraceLens,
} from './language';
export * from './policy';
