/**
 * Every diagnostic rule, listed once. Adding a rule: write `src/core/rules/<code>.ts` exporting a
 * `Rule`, add it here, document it in docs/diagnostics.md, and add golden fixtures under
 * test/fixtures/rules/<code>/.
 */
import type { Problem, Severity } from '../problem';
import type { Topology } from '../model/types';
import type { DataPlane } from '../dataplane/types';
import { indexRanges } from './ranges';
import type { Rule, RuleContext } from './rule';
import { cidrInvalid } from './cidr-invalid';
import { cidrHostBits } from './cidr-host-bits';
import { cidrFamilyMismatch } from './cidr-family-mismatch';
import { cidrOverlap } from './cidr-overlap';
import { cidrNodeOutsideCluster } from './cidr-node-outside-cluster';
import { cidrServiceRangeTooLarge } from './cidr-service-range-too-large';
import { cidrTooSmall } from './cidr-too-small';
import { ipOutsideRange } from './ip-outside-range';
import { ipDuplicate } from './ip-duplicate';
import { ipReserved } from './ip-reserved';
import { natMasqueradeAll } from './nat-masquerade-all';
import { natEgressMissing } from './nat-egress-missing';
import { cniCalicoGatewayUnrouted } from './cni-calico-gateway-unrouted';
import { natPodToPod } from './nat-pod-to-pod';
import { natNodeToPod } from './nat-node-to-pod';
import { routeMissing } from './route-missing';
import { routeGatewayUnreachable } from './route-gateway-unreachable';
import { routeLoop } from './route-loop';
import { bridgeHairpinOff } from './bridge-hairpin-off';
import { cniMtuTooLarge } from './cni-mtu-too-large';
import { podPortConflict } from './pod-port-conflict';
import { podHostNetworkIp } from './pod-host-network-ip';
import { serviceNoEndpoints } from './service-no-endpoints';
import { serviceTargetPort } from './service-target-port';
import { serviceNodePortDuplicate } from './service-nodeport-duplicate';
import { serviceClusterIpDuplicate } from './service-cluster-ip-duplicate';
import { serviceLocalPolicyDrop } from './service-local-policy-drop';
import { policySelectsNothing } from './policy-selects-nothing';
import { policyPeerMatchesNothing } from './policy-peer-matches-nothing';
import { policyNamedPortUnknown } from './policy-named-port-unknown';
import { policyIpblockClusterRange } from './policy-ipblock-cluster-range';
import { policyIpblockClusterIp } from './policy-ipblock-cluster-ip';
import { policyDnsEgressMissing } from './policy-dns-egress-missing';
import { servicePolicyUnreachable } from './service-policy-unreachable';
import { rangeAssumed } from './range-assumed';
import { cniFlannelNetworkMismatch } from './cni-flannel-network-mismatch';
import { cniFlannelNodeOutsideNetwork } from './cni-flannel-node-outside-network';
import { cniVxlanUnderlayMissing } from './cni-vxlan-underlay-missing';
import { cniIppoolOutsideCluster } from './cni-ippool-outside-cluster';
import { cniIppoolOverlap } from './cni-ippool-overlap';
import { cniNatOutgoingOff } from './cni-nat-outgoing-off';
import { cniIpipUnderlay } from './cni-ipip-underlay';
import { cniIpamRangeMismatch } from './cni-ipam-range-mismatch';
import { cniPortmapMissing } from './cni-portmap-missing';
import { podHostportConflict } from './pod-hostport-conflict';
import { cidrLinkLocal } from './cidr-link-local';

export type { Rule, RuleContext } from './rule';

export const RULES: readonly Rule[] = [
  cidrInvalid,
  cidrHostBits,
  cidrFamilyMismatch,
  cidrOverlap,
  cidrNodeOutsideCluster,
  cidrServiceRangeTooLarge,
  cidrTooSmall,
  cidrLinkLocal,
  ipOutsideRange,
  ipDuplicate,
  ipReserved,
  rangeAssumed,
  natMasqueradeAll,
  natEgressMissing,
  natPodToPod,
  natNodeToPod,
  routeMissing,
  routeGatewayUnreachable,
  routeLoop,
  bridgeHairpinOff,
  cniMtuTooLarge,
  cniCalicoGatewayUnrouted,
  podPortConflict,
  podHostNetworkIp,
  serviceNoEndpoints,
  serviceTargetPort,
  serviceNodePortDuplicate,
  serviceClusterIpDuplicate,
  serviceLocalPolicyDrop,
  policySelectsNothing,
  policyPeerMatchesNothing,
  policyNamedPortUnknown,
  policyIpblockClusterRange,
  policyIpblockClusterIp,
  policyDnsEgressMissing,
  servicePolicyUnreachable,
  cniFlannelNetworkMismatch,
  cniFlannelNodeOutsideNetwork,
  cniVxlanUnderlayMissing,
  cniIppoolOutsideCluster,
  cniIppoolOverlap,
  cniNatOutgoingOff,
  cniIpipUnderlay,
  cniIpamRangeMismatch,
  cniPortmapMissing,
  podHostportConflict,
];

/** A code the model builder, YAML reader or file loader reports (not a rule, but documented and overridable the same way). */
export interface CodeInfo {
  readonly code: string;
  readonly severity: Severity;
  readonly description: string;
}

/** Codes reported before the rules run: YAML syntax, the schema check, references, names, files. */
export const MODEL_CODES: readonly CodeInfo[] = [
  {
    code: 'yaml.syntax',
    severity: 'error',
    description: 'The file is not valid YAML; the rest of the file is still read where possible.',
  },
  {
    code: 'yaml.duplicate-key',
    severity: 'error',
    description:
      'A key written twice in one mapping (the API server rejects it); reported at the second, the first is read.',
  },
  {
    code: 'schema.unknown-key',
    severity: 'warning',
    description: 'A key the NetPath format does not have (with a "did you mean" suggestion).',
  },
  {
    code: 'schema.type',
    severity: 'error',
    description: 'A value of the wrong type, outside its allowed values, or a required key missing.',
  },
  {
    code: 'schema.api-version',
    severity: 'warning',
    description: 'A NetPath document with an apiVersion this version does not know.',
  },
  {
    code: 'k8s.unknown-api-version',
    severity: 'warning',
    description: 'A Kubernetes or tool object of a known kind with an apiVersion NetPath does not know.',
  },
  {
    code: 'k8s.proxy-mode',
    severity: 'warning',
    description:
      "kube-proxy mode ipvs, or kind's kubeProxyMode none: recognised, not modelled (traces show iptables mode).",
  },
  {
    code: 'k8s.endpointslice-unowned',
    severity: 'warning',
    description: 'An EndpointSlice without the kubernetes.io/service-name label.',
  },
  {
    code: 'k8s.policy-invalid',
    severity: 'error',
    description:
      'A NetworkPolicy the API server would refuse (unknown selector operator, a peer mixing ipBlock and selectors, a bad port range); read so that it allows nothing.',
  },
  {
    code: 'k8s.service-invalid',
    severity: 'error',
    description:
      'A Service the API server rejects: ports, target ports, port names, protocols, external IPs, traffic policies, affinity timeout, cluster IPs against ipFamilies and ipFamilyPolicy, nodePort on a ClusterIP Service.',
  },
  {
    code: 'k8s.pod-invalid',
    severity: 'error',
    description:
      "A Pod or pod template's container port the API server rejects: containerPort or hostPort outside 1-65535, a protocol other than TCP, UDP or SCTP, a port name twice in one container.",
  },
  {
    code: 'k8s.config-invalid',
    severity: 'error',
    description:
      'A kube-proxy, kubeadm or kind configuration its tool refuses: masqueradeBit, detectLocalMode, nodePortAddresses, dual-stack subnet lists, the pod subnet against the node CIDR mask, kind ipFamily.',
  },
  {
    code: 'k8s.config-conflict',
    severity: 'warning',
    description:
      'Two configurations (kind, kubeadm, kube-proxy, a NetPath document) that disagree on the cluster pod or Service range; reported at both, one is used deterministically.',
  },
  {
    code: 'cni.config-invalid',
    severity: 'error',
    description:
      'A CNI configuration its tool refuses: a conflist without name or plug-in types, a host-local range without subnet, flannel net-conf.json without Network or with a SubnetLen that does not fit, a Calico IPPool without cidr, with both IPIP and VXLAN, or a bad blockSize.',
  },
  {
    code: 'cni.plugin-unmodelled',
    severity: 'info',
    description:
      'The CNI configurations read (or kind without disableDefaultCNI) name a plug-in NetPath does not model yet; traces show the bridge plug-in instead.',
  },
  {
    code: 'cni.vxlan-mismatch',
    severity: 'error',
    description:
      'flannel configurations (two kube-flannel-cfg ConfigMaps, or one and a NetPath document) with different VXLAN VNIs or ports: their nodes cannot reach each other.',
  },
  {
    code: 'ref.unknown',
    severity: 'error',
    description: 'A reference to a node, network, device or include that does not exist.',
  },
  { code: 'name.duplicate', severity: 'error', description: 'Two objects of one kind with the same name.' },
  { code: 'include.too-many', severity: 'warning', description: 'More files than NetPath reads in one topology.' },
  {
    code: 'include.outside-workspace',
    severity: 'error',
    description: 'An include that reaches outside the workspace (absolute path, .., or a symbolic link); not read.',
  },
  {
    code: 'link.outside-workspace',
    severity: 'error',
    description: 'A symbolic link in a folder argument that leads outside the workspace; not followed.',
  },
  {
    code: 'link.broken',
    severity: 'warning',
    description: 'A symbolic link in a folder argument that leads to no file or folder; not read.',
  },
  { code: 'file.too-large', severity: 'warning', description: 'A file over the size limit; not read.' },
  {
    code: 'file.too-many-objects',
    severity: 'warning',
    description: 'More than 200,000 objects (YAML documents and List items) in one file; the first 200,000 are read.',
  },
  {
    code: 'yaml.alias',
    severity: 'warning',
    description: 'A YAML alias (*name): not followed, read as empty (no billion-laughs expansion).',
  },
  { code: 'yaml.too-deep', severity: 'warning', description: 'Collections nested more than 200 deep.' },
  {
    code: 'service.too-many-ports',
    severity: 'warning',
    description: 'A Service with more than 100 ports (more than an EndpointSlice holds); the first 100 are read.',
  },
  {
    code: 'node.too-many-rules',
    severity: 'warning',
    description: "A node's own iptables or nftables text with more than 50,000 rules; the first 50,000 are read.",
  },
  {
    code: 'pod.too-many-containers',
    severity: 'warning',
    description: 'A pod or pod template with more than 100 containers; the first 100 are read.',
  },
  {
    code: 'name.invalid',
    severity: 'error',
    description: 'A name, namespace, container or port name, or label Kubernetes refuses (DNS-1123/1035 rules).',
  },
];

/** Codes of the data plane itself, reported by `analyse` (src/core/dataplane/problems.ts). */
export const DATAPLANE_CODES: readonly CodeInfo[] = [
  {
    code: 'iptables.syntax',
    severity: 'error',
    description: "A line of a node's iptables text that iptables-restore would refuse.",
  },
  {
    code: 'iptables.unsupported',
    severity: 'warning',
    description: "A table, match, option or target in a node's iptables text that NetPath cannot evaluate.",
  },
  {
    code: 'nftables.syntax',
    severity: 'error',
    description: "A part of a node's nftables text that nft would refuse.",
  },
  {
    code: 'nftables.unsupported',
    severity: 'warning',
    description: "An expression or statement in a node's nftables text that NetPath does not model.",
  },
  {
    code: 'nftables.unknown-chain',
    severity: 'error',
    description: "A jump, goto or map element in a node's nftables text to a chain its table does not have.",
  },
  {
    code: 'nftables.unknown-set',
    severity: 'error',
    description: "A rule in a node's nftables text that uses a set or map its table does not have.",
  },
  {
    code: 'nftables.not-evaluated',
    severity: 'warning',
    description:
      "A base chain in a node's nftables text that traces do not run: bridge and arp families, netdev egress, ip/inet ingress and egress.",
  },
  {
    code: 'route.no-device',
    severity: 'error',
    description: 'A node route with no device and no interface that reaches its gateway, so the kernel refuses it.',
  },
];

/** Every documented code with its default severity and description: the rules and the model's codes. */
export const DIAGNOSTIC_CODES: readonly CodeInfo[] = [
  ...MODEL_CODES,
  ...DATAPLANE_CODES,
  ...RULES.map(({ code, severity, description }) => ({ code, severity, description })),
];

/** A severity per code, or `off` to drop the code. Codes not listed keep their default. */
export type SeverityOverrides = Readonly<Record<string, Severity | 'off'>>;

export interface RuleOptions {
  readonly severity?: SeverityOverrides;
  /**
   * The compiled data plane, for the rules that need it (see RuleContext.dataplane), or a function that
   * compiles it: called once, and only when a rule that needs it is turned on.
   */
  readonly dataplane?: DataPlane | (() => DataPlane | undefined);
  /** File texts by path (see RuleContext.texts). */
  readonly texts?: ReadonlyMap<string, string>;
  /** Called before each rule; may throw to stop the run (see AnalyseOptions.checkpoint). */
  readonly checkpoint?: () => void;
  /**
   * Called with the problems of the rules that read no data plane, after they ran and before the data plane is
   * compiled for the others (the editor shows them while the slower rules run). The same objects are in the result.
   */
  readonly beforeDataplane?: (found: readonly Problem[]) => void;
}

/**
 * Runs every rule that is not turned off and whose inputs are available: first those that read no data plane, then
 * (the data plane compiled, if one is wanted) those that do.
 */
export function runRules(topology: Topology, options: RuleOptions = {}): Problem[] {
  const on = RULES.filter((rule) => options.severity?.[rule.code] !== 'off');
  const readsDataplane = (rule: Rule): boolean => rule.needs?.includes('dataplane') ?? false;
  const base: RuleContext = {
    topology,
    ranges: indexRanges(topology),
    ...(options.texts ? { texts: options.texts } : {}),
  };
  const run = (rules: readonly Rule[], ctx: RuleContext): Problem[] =>
    applySeverity(
      rules
        .filter((rule) => (rule.needs ?? []).every((need) => ctx[need] !== undefined))
        .flatMap((rule) => {
          options.checkpoint?.();
          return rule.run(ctx);
        }),
      options.severity,
    );
  const first = run(
    on.filter((rule) => !readsDataplane(rule)),
    base,
  );
  options.beforeDataplane?.(first);
  const rest = on.filter(readsDataplane);
  if (!rest.length) return first;
  const dataplane = typeof options.dataplane === 'function' ? options.dataplane() : options.dataplane;
  return [...first, ...run(rest, dataplane ? { ...base, dataplane } : base)];
}

/** Applies per-code severity overrides: drops `off` codes, changes the severity of the others. */
export function applySeverity(problems: readonly Problem[], overrides: SeverityOverrides | undefined): Problem[] {
  if (!overrides) return [...problems];
  return problems.flatMap((p) => {
    const o = overrides[p.code];
    if (o === undefined || o === p.severity) return [p];
    return o === 'off' ? [] : [{ ...p, severity: o }];
  });
}
