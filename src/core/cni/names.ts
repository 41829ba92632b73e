/** The CNI plug-ins NetPath models, by the name a topology gives them (`cni.plugin`, a node's `cni`). */
export const CNI_PLUGIN_NAMES = ['bridge'] as const;
export type CniPluginName = (typeof CNI_PLUGIN_NAMES)[number];
/** The plug-in of a node that does not name one. */
export const DEFAULT_CNI_PLUGIN: CniPluginName = 'bridge';
