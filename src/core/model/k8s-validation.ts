/**
 * What Kubernetes and its tools refuse, checked where NetPath reads the object, so the error sits on the line:
 * the API server's Service validation (kubernetes/kubernetes pkg/apis/core/validation, ValidateService),
 * kube-proxy's configuration validation (pkg/proxy/apis/config/validation), kubeadm's networking validation
 * (cmd/kubeadm/app/apis/kubeadm/validation, ValidateNetworking) and kind's (kubernetes-sigs/kind
 * pkg/internal/apis/config/validate.go). Only the networking rules; every message says who refuses the value.
 * docs/diagnostics.md lists each rule with its upstream source.
 */
import type { Span } from '../problem';
import { parseAddress, parsePrefix, type Address, type Family } from '../net/address';
import { getPath, type YMap, type YNode } from '../syntax/yaml';
import { get, getStr, int, list, map, str, strings } from './read';
import type { Drafts } from './drafts';
import { LOAD_BALANCER_IP_MODES } from './types';
import { isOneOf } from '../lookup';

export const SERVICE_INVALID = 'k8s.service-invalid';
export const CONFIG_INVALID = 'k8s.config-invalid';

const PROTOCOLS = ['TCP', 'UDP', 'SCTP'];
const SERVICE_TYPES = ['ClusterIP', 'NodePort', 'LoadBalancer', 'ExternalName'];
const FAMILY_POLICIES = ['SingleStack', 'PreferDualStack', 'RequireDualStack'];
/** The longest ClientIP affinity the API server accepts (one day), in seconds. */
export const MAX_AFFINITY_SECONDS = 86400;

/** A DNS-1123 label: what a Service port name must be. */
export function isDns1123Label(name: string): boolean {
  return name.length <= 63 && /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(name);
}

/** An IANA service name: what a named targetPort (and a container port name) must be. */
export function isPortName(name: string): boolean {
  return (
    name.length <= 15 && /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(name) && !name.includes('--') && /[a-z]/.test(name)
  );
}

/** Why an external IP is refused (Go's net.IP classification, as the API server applies it), or undefined. */
export function specialAddress(a: Address): string | undefined {
  const bits = (n: number) => a.value >> BigInt((a.family === 4 ? 32 : 128) - n);
  if (a.value === 0n) return `unspecified (${a.family === 4 ? '0.0.0.0' : '::'})`;
  if (a.family === 4) {
    if (bits(8) === 127n) return 'in the loopback range 127.0.0.0/8';
    if (bits(16) === 0xa9fen) return 'in the link-local range 169.254.0.0/16';
    if (bits(24) === 0xe00000n) return 'in the link-local multicast range 224.0.0.0/24';
    return undefined;
  }
  if (a.value === 1n) return 'the loopback address ::1';
  if (bits(10) === 0x3fan) return 'in the link-local range fe80::/10';
  if ((bits(16) & 0xff0fn) === 0xff02n) return 'in the link-local multicast range ff02::/16';
  return undefined;
}

const textOf = (node: YNode): string => str(node) ?? '';
/** A traffic policy written as a word other than Cluster or Local (a non-string value is the schema's to report). */
const unknownTrafficPolicy = (value: string | undefined): boolean => !!value && !['Cluster', 'Local'].includes(value);

/** The API server's checks of a Service's networking fields. */
export function validateService(b: Drafts, root: YMap): void {
  const spec = map(get(root, 'spec'));
  if (!spec) return;
  const name = str(getPath(root, 'metadata', 'name')) ?? '';
  const err = (span: Span, message: string) =>
    b.report(SERVICE_INVALID, 'error', `Service ${name}: ${message}; the API server rejects it.`, span);
  const typeNode = get(spec, 'type');
  const type = str(typeNode) ?? 'ClusterIP';
  if (typeNode && !SERVICE_TYPES.includes(type))
    err(typeNode.span, `type '${type}' is not one of ${SERVICE_TYPES.join(', ')}`);
  if (type === 'ExternalName') return;

  const ports = list(get(spec, 'ports'));
  const byPortProtocol = new Map<string, YNode>();
  const byName = new Map<string, YNode>();
  for (const p of ports) {
    const portNode = get(p, 'port');
    const port = int(portNode);
    if (portNode && (port === undefined || port < 1 || port > 65535))
      err(portNode.span, `port ${textOf(portNode)} must be a number from 1 to 65535`);
    const nameNode = get(p, 'name');
    const portName = str(nameNode);
    if (ports.length > 1 && !portName)
      err((nameNode ?? portNode ?? p).span, 'a Service with several ports needs a name on each of them');
    if (nameNode && portName) {
      if (!isDns1123Label(portName))
        err(nameNode.span, `port name '${portName}' must be a DNS label (lower-case letters, digits and '-')`);
      else if (byName.has(portName)) err(nameNode.span, `port name '${portName}' is used twice`);
      else byName.set(portName, nameNode);
    }
    const protocolNode = get(p, 'protocol');
    const protocol = str(protocolNode) ?? 'TCP';
    if (protocolNode && !PROTOCOLS.includes(protocol))
      err(protocolNode.span, `protocol '${protocol}' is not one of ${PROTOCOLS.join(', ')}`);
    if (portNode && port !== undefined) {
      const key = `${port}/${protocol}`;
      if (byPortProtocol.has(key)) err(portNode.span, `port ${port}/${protocol} is listed twice`);
      else byPortProtocol.set(key, portNode);
    }
    const target = get(p, 'targetPort');
    if (target?.kind === 'scalar') {
      if (typeof target.value === 'number') {
        // 0 means "the same as port" (the API server fills it in).
        if (!Number.isInteger(target.value) || target.value < 0 || target.value > 65535)
          err(target.span, `targetPort ${textOf(target)} must be a number from 1 to 65535 or a port name`);
      } else if (typeof target.value === 'string' && !isPortName(target.value)) {
        err(
          target.span,
          /^\d+$/.test(target.value)
            ? `targetPort '${target.value}' is a quoted number, which Kubernetes reads as a port name; write it without quotes`
            : `targetPort '${target.value}' is not a valid port name (at most 15 lower-case letters, digits and '-', with at least one letter)`,
        );
      }
    }
    const nodePortNode = get(p, 'nodePort');
    const nodePort = int(nodePortNode);
    if (nodePortNode && nodePort !== 0) {
      if (type === 'ClusterIP')
        err(nodePortNode.span, `nodePort may not be used when type is ClusterIP (only NodePort and LoadBalancer)`);
      else if (nodePort === undefined || nodePort < 1 || nodePort > 65535)
        err(nodePortNode.span, `nodePort ${textOf(nodePortNode)} must be a number from 1 to 65535`);
    }
  }

  const externalIPs = strings(get(spec, 'externalIPs'));
  for (const x of externalIPs) {
    const a = parseAddress(x.value);
    const why = a && specialAddress(a);
    if (why) err(x.span, `externalIP ${x.value} may not be ${why}`);
  }
  const externallyAccessible = type === 'NodePort' || type === 'LoadBalancer' || externalIPs.length > 0;
  const etp = get(spec, 'externalTrafficPolicy');
  if (etp && str(etp) && !externallyAccessible)
    err(
      etp.span,
      'externalTrafficPolicy may only be set on an externally reachable Service (type NodePort or LoadBalancer, or with externalIPs)',
    );
  else if (etp && unknownTrafficPolicy(str(etp)))
    err(etp.span, `externalTrafficPolicy '${str(etp)}' is not Cluster or Local`);
  const itp = get(spec, 'internalTrafficPolicy');
  if (itp && unknownTrafficPolicy(str(itp)))
    err(itp.span, `internalTrafficPolicy '${str(itp)}' is not Cluster or Local`);
  const lbsr = get(spec, 'loadBalancerSourceRanges');
  if (lbsr && strings(lbsr).length && type !== 'LoadBalancer')
    err(lbsr.span, `loadBalancerSourceRanges may only be used when type is LoadBalancer, not ${type}`);

  const affinityNode = get(spec, 'sessionAffinity');
  const affinity = str(affinityNode) ?? 'None';
  if (affinityNode && !['None', 'ClientIP'].includes(affinity))
    err(affinityNode.span, `sessionAffinity '${affinity}' is not None or ClientIP`);
  const affinityConfig = get(spec, 'sessionAffinityConfig');
  const timeout = getPath(affinityConfig, 'clientIP', 'timeoutSeconds');
  if (affinity === 'None' && affinityConfig && timeout)
    err(affinityConfig.span, 'sessionAffinityConfig must not be set when sessionAffinity is None');
  if (affinity === 'ClientIP' && timeout) {
    const t = int(timeout);
    if (t === undefined || t <= 0 || t > MAX_AFFINITY_SECONDS)
      err(
        timeout.span,
        `sessionAffinityConfig.clientIP.timeoutSeconds ${textOf(timeout)} must be more than 0 and at most ${MAX_AFFINITY_SECONDS} (one day)`,
      );
  }

  validateServiceFamilies(spec, type, err);
  validateLoadBalancerStatus(root, err);
}

/**
 * `status.loadBalancer.ingress[]`: an ipMode is VIP or Proxy and needs an ip beside it (ValidateLoadBalancerStatus,
 * `supportedLoadBalancerIPMode`). The API server refuses such a status update, so the object cannot be as written.
 */
function validateLoadBalancerStatus(root: YMap, err: (span: Span, message: string) => void): void {
  list(getPath(root, 'status', 'loadBalancer', 'ingress')).forEach((ing, i) => {
    const modeNode = get(ing, 'ipMode');
    if (!modeNode) return;
    const mode = str(modeNode);
    if (!isOneOf(LOAD_BALANCER_IP_MODES, mode))
      err(
        modeNode.span,
        `status.loadBalancer.ingress[${i}].ipMode '${modeNode.kind === 'scalar' ? String(modeNode.value) : modeNode.kind}' is not ${LOAD_BALANCER_IP_MODES.join(' or ')}`,
      );
    else if (!getStr(ing, 'ip'))
      err(modeNode.span, `status.loadBalancer.ingress[${i}].ipMode is set, so the entry needs an ip`);
  });
}

/** clusterIP, clusterIPs, ipFamilies and ipFamilyPolicy must agree with each other. */
function validateServiceFamilies(spec: YMap, type: string, err: (span: Span, message: string) => void): void {
  const clusterIPNode = get(spec, 'clusterIP');
  const clusterIPs = strings(get(spec, 'clusterIPs'));
  const families = strings(get(spec, 'ipFamilies'));
  const policyNode = get(spec, 'ipFamilyPolicy');
  const policy = str(policyNode);
  if (policyNode && policy && !FAMILY_POLICIES.includes(policy))
    err(policyNode.span, `ipFamilyPolicy '${policy}' is not one of ${FAMILY_POLICIES.join(', ')}`);
  const clusterIP = str(clusterIPNode);
  if (clusterIPNode && clusterIP && clusterIPs.length && clusterIPs[0].value !== clusterIP)
    err(clusterIPs[0].span, `clusterIPs[0] (${clusterIPs[0].value}) must be the same as clusterIP (${clusterIP})`);
  const ips = clusterIPs.length
    ? clusterIPs
    : clusterIPNode && clusterIP
      ? [{ value: clusterIP, span: clusterIPNode.span }]
      : [];
  const headless = ips[0]?.value === 'None';
  if (headless && (type === 'NodePort' || type === 'LoadBalancer'))
    err(ips[0].span, `clusterIP may not be None for a ${type} Service`);
  if (headless && ips.length > 1) err(ips[1].span, 'clusterIPs may hold nothing else when the first is None');
  if (ips.length > 2) err(ips[2].span, 'clusterIPs may hold at most two addresses, one per IP family');
  const ipFamilies: (Family | undefined)[] = ips.map((x) => parseAddress(x.value)?.family);
  if (ips.length === 2 && !headless && ipFamilies[0] && ipFamilies[0] === ipFamilies[1])
    err(
      ips[1].span,
      `clusterIPs must be a dual-stack pair (one IPv4, one IPv6), not two IPv${ipFamilies[0]} addresses`,
    );
  if (policy === 'SingleStack' && ips.length > 1 && !headless)
    err(ips[1].span, 'ipFamilyPolicy SingleStack allows one cluster IP');
  if (policy === 'SingleStack' && families.length > 1)
    err(families[1].span, 'ipFamilyPolicy SingleStack allows one IP family');
  const seen = new Set<string>();
  families.forEach((f, i) => {
    if (f.value !== 'IPv4' && f.value !== 'IPv6')
      return err(f.span, `ipFamilies entry '${f.value}' is not IPv4 or IPv6`);
    if (seen.has(f.value)) return err(f.span, `ipFamilies lists ${f.value} twice`);
    seen.add(f.value);
    const ipFamily = ipFamilies[i];
    if (!headless && ipFamily && `IPv${ipFamily}` !== f.value)
      err(ips[i].span, `clusterIPs[${i}] (${ips[i].value}) is IPv${ipFamily}, but ipFamilies[${i}] is ${f.value}`);
  });
  if (families.length > 2) err(families[2].span, 'ipFamilies may hold at most two entries');
}

/** kube-proxy's KubeProxyConfiguration: masqueradeBit, detectLocalMode, nodePortAddresses, mode, clusterCIDR. */
export function validateKubeProxy(b: Drafts, root: YMap): void {
  const err = (span: Span, message: string) =>
    b.report(CONFIG_INVALID, 'error', `KubeProxyConfiguration: ${message}; kube-proxy refuses to start.`, span);
  const bitNode = getPath(root, 'iptables', 'masqueradeBit');
  if (bitNode) {
    const bit = int(bitNode);
    if (bit === undefined || bit < 0 || bit > 31)
      err(bitNode.span, `iptables.masqueradeBit ${textOf(bitNode)} must be from 0 to 31`);
  }
  const modeNode = get(root, 'mode');
  const mode = str(modeNode);
  if (modeNode && mode && !['iptables', 'ipvs', 'nftables', 'kernelspace'].includes(mode))
    err(modeNode.span, `mode '${mode}' is not iptables, ipvs or nftables (blank means iptables)`);
  const detectNode = get(root, 'detectLocalMode');
  const detect = str(detectNode);
  if (detectNode && detect) {
    if (!['ClusterCIDR', 'NodeCIDR', 'BridgeInterface', 'InterfaceNamePrefix'].includes(detect))
      err(
        detectNode.span,
        `detectLocalMode '${detect}' is not ClusterCIDR, NodeCIDR, BridgeInterface or InterfaceNamePrefix`,
      );
    else if (detect === 'BridgeInterface' && !str(getPath(root, 'detectLocal', 'bridgeInterface')))
      err(detectNode.span, 'detectLocalMode BridgeInterface needs detectLocal.bridgeInterface');
    else if (detect === 'InterfaceNamePrefix' && !str(getPath(root, 'detectLocal', 'interfaceNamePrefix')))
      err(detectNode.span, 'detectLocalMode InterfaceNamePrefix needs detectLocal.interfaceNamePrefix');
  }
  const addresses = strings(get(root, 'nodePortAddresses'));
  if (addresses.length > 1)
    for (const a of addresses)
      if (a.value === 'primary') err(a.span, "nodePortAddresses can't use both 'primary' and CIDRs");
  const cidrNode = get(root, 'clusterCIDR');
  const cidrs = (str(cidrNode) ?? '').split(',').filter((x) => x.trim());
  if (cidrNode) validateDualStackList(cidrs, cidrNode.span, 'clusterCIDR', err);
}

/** At most two ranges, and two only as one IPv4 and one IPv6 (kubeadm, kind and kube-proxy say the same). */
function validateDualStackList(
  values: readonly string[],
  span: Span,
  what: string,
  err: (span: Span, message: string) => void,
): void {
  if (values.length > 2)
    return err(
      span,
      `${what} holds ${values.length} ranges: one (IPv4 or IPv6), or two of different families for dual-stack`,
    );
  if (values.length === 2) {
    const [a, b] = values.map((v) => parsePrefix(v.trim())?.family);
    if (a && b && a === b) err(span, `${what} holds two IPv${a} ranges: dual-stack needs one IPv4 and one IPv6`);
  }
}

/**
 * The value of a control-plane flag in kubeadm's extraArgs (v1beta3 map, v1beta4 list of {name, value}); in the list
 * form the last entry of a name wins, as kubeadm's GetArgValue(args, name, -1) reads it.
 */
export function extraArg(
  cfg: YMap,
  name: string,
  component: 'controllerManager' | 'apiServer' = 'controllerManager',
): { value: string; span: Span } | undefined {
  const args = getPath(cfg, component, 'extraArgs');
  if (args?.kind === 'map') {
    const v = get(args, name);
    const text = str(v);
    return v && text !== undefined ? { value: text, span: v.span } : undefined;
  }
  let found: { value: string; span: Span } | undefined;
  for (const item of list(args)) {
    if (getStr(item, 'name') !== name) continue;
    const v = get(item, 'value');
    const text = str(v);
    if (v && text !== undefined) found = { value: text, span: v.span };
  }
  return found;
}

/**
 * kube-apiserver's --service-node-port-range as its parser (k8s.io/apimachinery util/net PortRange.Set) reads it:
 * "low-high", "base+size" (base to base+size, inclusive) or one port; every port from 0 to 65535.
 */
export function parsePortRange(text: string): { min: number; max: number } | undefined {
  const m = /^\s*(\d{1,5})\s*(?:([-+])\s*(\d{1,5}))?\s*$/.exec(text);
  if (!m) return undefined;
  const low = Number(m[1]);
  const high = m[2] === '-' ? Number(m[3]) : m[2] === '+' ? low + Number(m[3]) : low;
  if (low > 65535 || high > 65535 || high < low) return undefined;
  return { min: low, max: high };
}

/** kubeadm's minimum sizes (cmd/kubeadm/app/constants: MinimumAddressesInServiceSubnet, MinimumAddressesInPodSubnet). */
export const KUBEADM_MIN_SERVICE_ADDRESSES = 10n;
export const KUBEADM_MIN_POD_ADDRESSES = 14n;

/** The biggest difference kubeadm accepts between the pod subnet's mask and the node mask (2^16 nodes). */
export const POD_SUBNET_NODE_MASK_MAX_DIFF = 16;

/**
 * kubeadm's ClusterConfiguration: the subnets' dual-stack shape, and each pod subnet against the node CIDR mask
 * size kube-controller-manager cuts it into (node-cidr-mask-size-ipv4/-ipv6, default 24 and 64; the older
 * single-stack node-cidr-mask-size is read for both families when the family's own flag is absent).
 */
export function validateKubeadm(b: Drafts, root: YMap): void {
  const err = (span: Span, message: string) =>
    b.report(CONFIG_INVALID, 'error', `kubeadm ClusterConfiguration: ${message}; kubeadm init refuses it.`, span);
  const networking = get(root, 'networking');
  for (const key of ['podSubnet', 'serviceSubnet']) {
    const node = get(networking, key);
    const text = str(node);
    if (!node || !text) continue;
    validateDualStackList(text.split(','), node.span, `networking.${key}`, err);
    // ValidateIPNetFromString: every subnet holds at least the minimum number of addresses.
    const min = key === 'serviceSubnet' ? KUBEADM_MIN_SERVICE_ADDRESSES : KUBEADM_MIN_POD_ADDRESSES;
    for (const part of text.split(',')) {
      const p = parsePrefix(part.trim());
      if (!p) continue;
      const size = 1n << BigInt((p.family === 4 ? 32 : 128) - p.length);
      if (size < min)
        err(
          node.span,
          `networking.${key} ${part.trim()} holds ${size} address${size === 1n ? '' : 'es'}, below kubeadm's minimum of ${min}${key === 'serviceSubnet' ? ' (the DNS Service takes the tenth address)' : ''}`,
        );
    }
  }
  const portRange = extraArg(root, 'service-node-port-range', 'apiServer');
  if (portRange && !parsePortRange(portRange.value))
    b.report(
      CONFIG_INVALID,
      'error',
      `kubeadm ClusterConfiguration: apiServer extraArgs service-node-port-range '${portRange.value}' is not a port range like 30000-32767; kube-apiserver refuses to start.`,
      portRange.span,
    );
  const podNode = get(networking, 'podSubnet');
  const podSubnet = str(podNode);
  if (!podNode || !podSubnet || extraArg(root, 'allocate-node-cidrs')?.value === 'false') return;
  for (const text of podSubnet.split(',')) {
    const p = parsePrefix(text.trim());
    if (!p) continue;
    const flag = p.family === 4 ? 'node-cidr-mask-size-ipv4' : 'node-cidr-mask-size-ipv6';
    const arg = extraArg(root, flag) ?? extraArg(root, 'node-cidr-mask-size');
    const nodeMask = arg ? Number(arg.value) : p.family === 4 ? 24 : 64;
    if (!Number.isInteger(nodeMask)) continue;
    const where = arg?.span ?? podNode.span;
    if (p.length > nodeMask)
      err(
        podNode.span,
        `the pod subnet ${text.trim()} (/${p.length}) is smaller than one node's pod range (/${nodeMask}${arg ? '' : `, kube-controller-manager's default ${flag}`})`,
      );
    else if (nodeMask - p.length > POD_SUBNET_NODE_MASK_MAX_DIFF)
      err(
        where,
        `the pod subnet ${text.trim()} (/${p.length}) would be cut into 2^${nodeMask - p.length} node ranges of /${nodeMask}; the difference may be at most ${POD_SUBNET_NODE_MASK_MAX_DIFF}`,
      );
  }
}

/** kind's Cluster: ipFamily, the subnets against it, kubeProxyMode. */
export function validateKind(b: Drafts, root: YMap): void {
  const err = (span: Span, message: string) =>
    b.report(CONFIG_INVALID, 'error', `kind Cluster: ${message}; kind create cluster refuses it.`, span);
  const networking = get(root, 'networking');
  const familyNode = get(networking, 'ipFamily');
  const family = str(familyNode) ?? 'ipv4';
  if (familyNode && !['ipv4', 'ipv6', 'dual'].includes(family))
    err(familyNode.span, `networking.ipFamily '${family}' is not ipv4, ipv6 or dual`);
  for (const key of ['podSubnet', 'serviceSubnet']) {
    const node = get(networking, key);
    const text = str(node);
    if (!node || !text) continue;
    const values = text.split(',');
    if (family === 'dual') validateDualStackList(values, node.span, `networking.${key}`, err);
    else if (values.length > 1)
      err(node.span, `networking.${key} may hold one range for a single-stack (${family}) cluster`);
    else {
      const f = parsePrefix(values[0].trim())?.family;
      if (family === 'ipv4' && f === 6) err(node.span, `networking.${key} ${values[0]} is IPv6, but ipFamily is ipv4`);
      if (family === 'ipv6' && f === 4) err(node.span, `networking.${key} ${values[0]} is IPv4, but ipFamily is ipv6`);
    }
  }
  const proxyNode = get(networking, 'kubeProxyMode');
  const proxy = str(proxyNode);
  if (proxyNode && proxy && !['iptables', 'ipvs', 'nftables', 'none'].includes(proxy))
    err(proxyNode.span, `networking.kubeProxyMode '${proxy}' is not iptables, ipvs, nftables or none`);
}

/** kind's default subnets for an ipFamily (kind pkg/internal/apis/config/default.go). */
export function kindDefaults(ipFamily: string | undefined): { pods: string[]; services: string[] } {
  if (ipFamily === 'ipv6') return { pods: ['fd00:10:244::/56'], services: ['fd00:10:96::/112'] };
  if (ipFamily === 'dual')
    return { pods: ['10.244.0.0/16', 'fd00:10:244::/56'], services: ['10.96.0.0/16', 'fd00:10:96::/112'] };
  return { pods: ['10.244.0.0/16'], services: ['10.96.0.0/16'] };
}
