/**
 * What a set of files holds, by object kind, and whether any of it is something NetPath analyses: for the
 * CLI's text output when there is nothing to check ("read 3 files: 2 ClusterRole, 1 CustomResourceDefinition;
 * none of a kind NetPath analyses"), so an empty answer is never silent about why.
 */
import type { ParsedFile } from '../syntax/yaml';
import { get, getStr, list } from './read';
import { isReadKind } from './kubernetes';
import { isCniConfigMap, isCniNetworkConfig } from './cni-config';
import type { YMap } from '../syntax/yaml';

export interface Inventory {
  readonly files: number;
  /** Objects by kind (List items counted one by one), most frequent first. */
  readonly kinds: readonly { readonly kind: string; readonly count: number }[];
  /**
   * Objects NetPath checks (NetPath documents and the Kubernetes and tool kinds of docs/topology-format.md),
   * not counting workloads and Namespaces, which only give context to Services and NetworkPolicies.
   */
  readonly analysed: number;
}

/** Kinds read only as context for others: workloads count for Service selectors, Namespaces for policies. */
const CONTEXT = new Set([
  'Deployment',
  'ReplicaSet',
  'StatefulSet',
  'DaemonSet',
  'Job',
  'CronJob',
  'ReplicationController',
  'Namespace',
]);

/** Whether the model checks this object on its own (the same tests as kubernetes.ts, without reading it). */
function reads(root: YMap, apiVersion: string, kind: string): boolean {
  if (!isReadKind(kind) || CONTEXT.has(kind)) return false;
  if (kind === 'Cluster') return apiVersion.startsWith('kind.x-k8s.io/');
  if (kind === 'ClusterConfiguration') return apiVersion.startsWith('kubeadm.k8s.io/');
  if (kind === 'ConfigMap')
    return (getStr(get(root, 'metadata'), 'name') ?? '').includes('masq') || isCniConfigMap(root);
  if (kind === 'IPPool') return apiVersion.includes('projectcalico.org/');
  return true;
}

/** What one file holds: its objects by kind (List items one by one) and how many of them NetPath checks. */
export interface FileInventory {
  readonly file: string;
  readonly counts: ReadonlyMap<string, number>;
  readonly analysed: number;
}

/**
 * One file's objects by kind. Small beside the syntax tree it is read from, so a caller that needs no more of
 * the tree (the CLI's `lint`) keeps this and lets the tree go.
 */
export function fileInventory(file: ParsedFile): FileInventory {
  const counts = new Map<string, number>();
  let analysed = 0;
  const count = (kind: string, read: boolean) => {
    counts.set(kind, (counts.get(kind) ?? 0) + 1);
    if (read) analysed++;
  };
  for (const doc of file.documents) {
    const root = doc.root;
    if (root?.kind !== 'map') continue;
    const apiVersion = getStr(root, 'apiVersion') ?? '';
    const kind = getStr(root, 'kind') ?? '(no kind)';
    if (apiVersion.startsWith('netpath.dev/')) count(`NetPath ${kind}`, true);
    else if (isCniNetworkConfig(root)) count('CNI network configuration', true);
    else if (kind === 'List')
      for (const item of list(get(root, 'items'))) {
        if (item.kind !== 'map') continue;
        const k = getStr(item, 'kind') ?? '(no kind)';
        count(k, reads(item, getStr(item, 'apiVersion') ?? '', k));
      }
    else count(kind, reads(root, apiVersion, kind));
  }
  return { file: file.file, counts, analysed };
}

/** What a set of files holds, from their syntax trees or from inventories of them taken before. */
export function inventory(files: readonly (ParsedFile | FileInventory)[]): Inventory {
  const counts = new Map<string, number>();
  let analysed = 0;
  for (const f of files) {
    const one = 'counts' in f ? f : fileInventory(f);
    for (const [kind, n] of one.counts) counts.set(kind, (counts.get(kind) ?? 0) + n);
    analysed += one.analysed;
  }
  const kinds = [...counts]
    .map(([kind, n]) => ({ kind, count: n }))
    .sort((a, b) => b.count - a.count || a.kind.localeCompare(b.kind));
  return { files: files.length, kinds, analysed };
}
