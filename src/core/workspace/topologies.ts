/**
 * Which files form which topology, the way the editor decides it: every NetPath document is a topology of
 * its own (with what it includes); a Kubernetes manifest that no NetPath document includes belongs with the
 * NetPath documents of its folder or the nearest parent folder that has one; the YAML left over (manifests
 * with no NetPath document above them) forms one topology per argument, as a folder of plain manifests is
 * one cluster. Used by `netpath lint` and `netpath trace` so a folder of several examples is not merged
 * into one cluster that does not exist.
 */
import { loadTopologyFiles, type FileHost, type LoadOptions } from './load';
import { dirname } from './paths';

export const NETPATH_FILE = /\.(netpath|topology)\.ya?ml$/i;
const NETPATH_API = /^apiVersion:\s*["']?netpath\.dev\//m;
/** The kinds NetPath reads (a `List` of them is what `kubectl get -o yaml|json` prints). */
const READ_KINDS =
  'Node|Pod|Service|EndpointSlice|Endpoints|List|KubeProxyConfiguration|ClusterConfiguration|Cluster|ConfigMap|NetworkPolicy|Namespace|Deployment|ReplicaSet|StatefulSet|DaemonSet|Job|CronJob|ReplicationController|IPPool';
const K8S_KIND = new RegExp(`^kind:\\s*["']?(${READ_KINDS})\\b`, 'm');
const READ_KIND = new RegExp(`^(${READ_KINDS})$`);
const JSON_NAME = /\.json$/i;

/** A NetPath document: by its name (`*.netpath.yaml`, `*.topology.yaml`) or its `apiVersion: netpath.dev/...`. */
export function isNetPathDocument(path: string, text: string): boolean {
  return NETPATH_FILE.test(path) || NETPATH_API.test(text);
}

/** A YAML file holding Kubernetes objects NetPath reads: a document whose `kind` is one of them. */
export function looksLikeManifest(text: string): boolean {
  return K8S_KIND.test(text);
}

/**
 * Whether a file holds Kubernetes objects NetPath reads, the rule the editor and the command line share: a
 * `.json` file (or one the editor knows as JSON) when it is a Kubernetes object or list of a kind NetPath reads
 * ({@link kubernetesJsonKind}), any other file by {@link looksLikeManifest}. package.json, tsconfig.json, JSON
 * Schemas and other JSON are never analysed.
 */
export function isManifestFile(path: string, text: string, json = JSON_NAME.test(path)): boolean {
  if (!json) return looksLikeManifest(text);
  const kind = kubernetesJsonKind(text);
  return kind !== undefined && READ_KIND.test(kind);
}

/**
 * The `kind` of a JSON text that is a Kubernetes object or list (`kubectl get -o json`): an object with a string
 * `apiVersion` and a string `kind` among its own keys (not nested ones: a JSON Schema of a Kubernetes type names
 * kinds deeper down). Undefined for anything else. The top level is scanned without building the object. A text
 * that ends or breaks before its top-level object closes (the first kilobytes of a file, a dump the user is
 * editing) is judged by what it holds: an object naming an `apiVersion` and, anywhere, a `kind` (a kubectl List
 * names its own kind after its items, so that is an item's kind) — a broken dump is still read, and its syntax
 * error reported, rather than skipped.
 */
export function kubernetesJsonKind(text: string): string | undefined {
  const top = topLevelStrings(text);
  if (!top) return undefined;
  if (top.complete) return top.found.get('apiVersion') !== undefined ? top.found.get('kind') : undefined;
  if (!/"apiVersion"\s*:/.test(text)) return undefined;
  return top.found.get('kind') ?? /"kind"\s*:\s*"([^"\\]*)"/.exec(text)?.[1];
}

/** The top-level string members of a JSON object text, read up to its end or the first thing that is not JSON. */
function topLevelStrings(text: string): { found: Map<string, string>; complete: boolean } | undefined {
  let i = 0;
  const ws = () => {
    while (i < text.length && ' \t\r\n\uFEFF'.includes(text[i] ?? '')) i++;
  };
  const str = (): string | undefined => {
    // At an opening quote; returns the string's raw content (escapes left as written) and moves past it.
    const start = ++i;
    while (i < text.length && text[i] !== '"') i += text[i] === '\\' ? 2 : 1;
    if (i >= text.length) return undefined;
    return text.slice(start, i++);
  };
  const skipValue = (): boolean => {
    let depth = 0;
    while (i < text.length) {
      const c = text[i];
      if (c === '"') {
        if (str() === undefined) return false;
        if (depth === 0) return true;
        continue;
      }
      if (c === '{' || c === '[') depth++;
      else if (c === '}' || c === ']') {
        if (depth === 0) return true;
        depth--;
        if (depth === 0) {
          i++;
          return true;
        }
      } else if (c === ',' && depth === 0) return true;
      i++;
    }
    return false;
  };
  ws();
  if (text[i] !== '{') return undefined;
  i++;
  const found = new Map<string, string>();
  for (;;) {
    ws();
    if (text[i] === '}' && !found.size) return { found, complete: true };
    if (text[i] !== '"') return { found, complete: false };
    const key = str();
    ws();
    if (key === undefined || text[i] !== ':') return { found, complete: false };
    i++;
    ws();
    if (text[i] === '"') {
      const value = str();
      if (value === undefined) return { found, complete: false };
      if (!found.has(key)) found.set(key, value);
    } else if (!skipValue()) return { found, complete: false };
    ws();
    if (text[i] === '}') return { found, complete: true };
    if (text[i] !== ',') return { found, complete: false };
    i++;
  }
}

/** How much of a .json or .conf file {@link isFolderFile} needs: the first 4 KB. */
export const FOLDER_FILE_HEAD_BYTES = 4096;

/**
 * Whether a folder walk reads a file, the rule `netpath lint <folder>` and the editor's grouping share: YAML, a CNI
 * `*.conflist`, or a `.json`/`.conf` whose first {@link FOLDER_FILE_HEAD_BYTES} bytes (`head`) are a Kubernetes
 * object or list ({@link kubernetesJsonKind}, any kind) or a CNI network configuration (a `cniVersion`).
 */
export function isFolderFile(name: string, head: () => string): boolean {
  if (/\.(ya?ml|conflist)$/i.test(name)) return true;
  if (!/\.(json|conf)$/i.test(name)) return false;
  const text = head();
  return kubernetesJsonKind(text) !== undefined || (/^\s*\{/.test(text) && /"cniVersion"\s*:/.test(text));
}

/**
 * The topology that reports on a file: a NetPath document's own topology when several documents share its folder,
 * else the group that has it among its entries, else the first that reads it (an included file).
 */
export function groupOf<T extends TopologyGroup>(groups: readonly T[], path: string): T | undefined {
  return (
    groups.find((g) => g.entries.length === 1 && g.entries[0] === path) ??
    groups.find((g) => g.entries.includes(path)) ??
    groups.find((g) => g.files.includes(path))
  );
}

export interface TopologyGroup {
  /** The entry files to analyse together (what they include is read too). */
  readonly entries: readonly string[];
  /** Every file the group reads: its entries and what they include. */
  readonly files: readonly string[];
}

/**
 * Splits the files of each argument (`roots[i]` holds the files one argument expanded to, absolute POSIX
 * paths) into topologies. Files that cannot be read are left out (the caller reports them). The order is
 * stable: groups in the order of their first file.
 */
export async function groupTopologies(
  roots: readonly (readonly string[])[],
  host: FileHost,
  options: LoadOptions = {},
): Promise<TopologyGroup[]> {
  const texts = new Map<string, string>();
  for (const files of roots)
    for (const f of files) {
      if (texts.has(f)) continue;
      const text = await host.readFile(f);
      if (text !== undefined) texts.set(f, text);
    }
  const all = [...new Set(roots.flat())].filter((f) => texts.has(f));
  const docs = all.filter((f) => {
    const text = texts.get(f);
    return text !== undefined && isNetPathDocument(f, text);
  });
  const docsIn = new Map<string, string[]>();
  for (const d of docs) docsIn.set(dirname(d), [...(docsIn.get(dirname(d)) ?? []), d]);

  // What each NetPath document reads; a file read by one is not an orphan.
  const readBy = new Map<string, string[]>();
  const covered = new Set<string>();
  for (const d of docs) {
    const loaded = await loadTopologyFiles([d], host, texts, options);
    const files = loaded.files.map((f) => f.path);
    readBy.set(d, files);
    for (const f of files) covered.add(f);
  }

  // Manifests no document includes: with the documents of their folder or the nearest parent folder.
  const joined = new Map<string, string[]>();
  const leftover = new Set<string>();
  for (const f of all) {
    if (covered.has(f)) continue;
    let dir = dirname(f);
    for (;;) {
      if (docsIn.has(dir)) {
        joined.set(dir, [...(joined.get(dir) ?? []), f]);
        break;
      }
      const up = dirname(dir);
      if (up === dir) {
        leftover.add(f);
        break;
      }
      dir = up;
    }
  }

  const groups: { entries: string[]; first: number }[] = [];
  const order = new Map(all.map((f, i) => [f, i]));
  // Every entry is one of `all` (the fallback only keeps the type honest).
  const firstAt = (f: string): number => order.get(f) ?? all.length;
  for (const [dir, ds] of docsIn) {
    const extra = joined.get(dir) ?? [];
    // A folder's only document and its manifests are one topology; several documents each stay their own
    // topology, and the manifests go with all of them (as the editor analyses a manifest there).
    if (extra.length && ds.length === 1) groups.push({ entries: [ds[0], ...extra], first: firstAt(ds[0]) });
    else {
      for (const d of ds) groups.push({ entries: [d], first: firstAt(d) });
      if (extra.length) groups.push({ entries: [...ds, ...extra], first: firstAt(extra[0]) });
    }
  }
  for (const files of roots) {
    const rest = files.filter((f) => leftover.delete(f));
    if (rest.length) groups.push({ entries: rest, first: firstAt(rest[0]) });
  }
  groups.sort((a, b) => a.first - b.first);
  const out: TopologyGroup[] = [];
  for (const g of groups) {
    const files = new Set<string>();
    for (const e of g.entries) for (const f of readBy.get(e) ?? [e]) files.add(f);
    out.push({ entries: g.entries, files: [...files] });
  }
  return out;
}
