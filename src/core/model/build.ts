/**
 * Documents -> model. Reads every YAML document of the given files, sorts them by kind (NetPath
 * topologies, Kubernetes objects, tool configurations), merges them into one immutable `Topology` and
 * fills in documented defaults (docs/topology-format.md). Never throws on user input: what cannot be
 * used becomes a problem with a stable code and the span of the offending node.
 *
 * Precedence when several sources say the same thing: a NetPath document, then Kubernetes objects and
 * tool configurations, then defaults. A NetPath document may refine an object defined as a Kubernetes
 * object (same node name, same pod or Service namespace/name).
 */
import type { Problem } from '../problem';
import { get, getStr, str } from './read';
import { parseYamlFile, type ParsedFile, type YDocument } from '../syntax/yaml';
import { TOPOLOGY_SCHEMA } from './schema';
import { validateAgainstSchema } from './validate';
import type { SourceFile, Topology } from './types';
import { Drafts, MAX_OBJECTS_PER_FILE } from './drafts';
import { kubernetes } from './kubernetes';
import { finish } from './merge';
import { netpath } from './netpath-documents';
import { checkNames } from './validate-names';
import { isCniNetworkConfig, readCniNetwork } from './cni-config';

export const NETPATH_API = 'netpath.dev/v1alpha1';

export interface BuildResult {
  readonly topology: Topology;
  readonly problems: readonly Problem[];
  /** Every parsed file, for features that need the syntax tree (hover, outline, definitions). */
  readonly parsed: readonly ParsedFile[];
  /** The text of every file read, exactly as analysed (for offset <-> line conversion at the edges). */
  readonly sources: readonly SourceFile[];
}

/** One YAML document: a NetPath document (checked against the schema) or a Kubernetes object. */
function document(b: Drafts, doc: YDocument): void {
  const root = doc.root;
  if (!root || root.kind !== 'map') return;
  const apiVersionNode = get(root, 'apiVersion');
  const apiVersion = str(apiVersionNode);
  const kind = getStr(root, 'kind');
  if (isCniNetworkConfig(root)) return readCniNetwork(b, root, 'CniConfig');
  if (apiVersionNode && apiVersion?.startsWith('netpath.dev/')) {
    if (apiVersion !== NETPATH_API) {
      b.report(
        'schema.api-version',
        'warning',
        `Unknown NetPath apiVersion '${apiVersion}': this version of NetPath reads ${NETPATH_API}. Reading it as ${NETPATH_API}.`,
        apiVersionNode.span,
      );
    }
    validateAgainstSchema(root, TOPOLOGY_SCHEMA, '', b.problems);
    checkNames(root, true, kind, b.problems);
    netpath(b, root);
    return;
  }
  checkNames(root, false, kind, b.problems);
  kubernetes(b, root, apiVersion, kind);
}

/** Builds the model from already-read files. */
export function buildTopology(
  files: readonly SourceFile[],
  parsed: readonly ParsedFile[] = files.map((f) => parseYamlFile(f.path, f.text)),
): BuildResult {
  const b = new Drafts();
  b.texts = new Map(files.map((f) => [f.path, f.text]));
  for (const p of parsed) {
    b.problems.push(...p.problems);
    b.objectsLeft = MAX_OBJECTS_PER_FILE;
    for (const d of p.documents) {
      if (!b.takeObject(d)) break;
      document(b, d);
    }
  }
  const topology = finish(
    b,
    files.map((f) => f.path),
  );
  return { topology, problems: b.problems, parsed, sources: files };
}
