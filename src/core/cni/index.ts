/**
 * The CNI plug-ins, one module each, registered here by the name a topology uses. Adding one: a module
 * implementing {@link CniPlugin}, its name in names.ts, its line below (docs/architecture.md, "Adding a CNI plug-in").
 */
import type { Node, Topology } from '../model/types';
import { BRIDGE_PLUGIN } from './bridge';
import { FLANNEL_PLUGIN } from './flannel';
import { CALICO_PLUGIN } from './calico';
import { KINDNET_PLUGIN, PTP_PLUGIN } from './ptp';
import { DEFAULT_CNI_PLUGIN, type CniPluginName } from './names';
import type { CniNodeView, CniPlugin } from './types';

export const CNI_PLUGINS: Readonly<Record<CniPluginName, CniPlugin>> = {
  bridge: BRIDGE_PLUGIN,
  flannel: FLANNEL_PLUGIN,
  ptp: PTP_PLUGIN,
  kindnet: KINDNET_PLUGIN,
  calico: CALICO_PLUGIN,
};

/** The plug-in a node uses. */
export function cniPluginOf(node: Node): CniPlugin {
  return CNI_PLUGINS[node.cni] ?? CNI_PLUGINS[DEFAULT_CNI_PLUGIN];
}

/** What a node looks like to something drawing or explaining it (see {@link CniNodeView}). */
export function cniViewOf(node: Node, t?: Topology): CniNodeView {
  return cniPluginOf(node).describe(node, t);
}

export { CNI_PLUGIN_NAMES, DEFAULT_CNI_PLUGIN, type CniPluginName } from './names';
export type { CniTunnelView, CniNodeView, CniNodeWiring, CniPlugin, CniPodWiring, CniRules } from './types';
export { cniChainName, containerIdOf } from './bridge';
