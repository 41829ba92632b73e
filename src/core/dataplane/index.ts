/** The data plane: the model compiled into namespaces, devices, routes, bridges and per-node rulesets. */
export * from './types';
export { compileDataPlane, podNetns, nodeNetns, externalNetns, ownerOf, type CompileOptions } from './compile';
export { lookupRoute, routesFor, routeTable, isLocalAddress, deviceOfLocal, sourceAddressFor } from './routes';
export {
  buildNodeRules,
  nodeRulesText,
  ipMasqAgentRules,
  rulesFileOf,
  type KubeProxyGenerator,
  type NodeRulesOptions,
} from './node-rules';
export { cniChainName } from '../cni';
