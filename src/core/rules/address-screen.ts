/**
 * Pod IPs are nearly all of a large cluster's addresses (300,000 at 5,000 nodes), and nearly all of them are
 * unremarkable: inside their node's pod CIDR, on none of its edges, not the node's bridge gateway, not link-local, of
 * a family the cluster has. The address rules (ip.reserved, ip.outside-range, cidr.link-local,
 * cidr.family-mismatch, ...) each used to walk every one of them with their own maps and bigint arithmetic. Here
 * one pass, made once per range index and shared, sets those plain pod IPs aside, comparing IPv4 values as numbers;
 * each rule then walks only what is left, with its own unchanged logic.
 */
import { firstAddress, ipv4Number, lastAddress, literalPrefix, type Address, type Family } from '../net/address';
import { work } from '../work';
import { parsedRange, podEntryAt, type AddressEntry, type RangeIndex } from './ranges';

/** One of a node's pod CIDRs, its ends as numbers for IPv4 (exact: at most 2^32) and as bigints for IPv6. */
interface NodeSubnet {
  readonly family: Family;
  readonly first: bigint;
  readonly last: bigint;
  readonly first4: number;
  readonly last4: number;
}

/** What a pod IP on one node is compared with. */
interface NodeFacts {
  readonly subnets: NodeSubnet[];
  /** The node's bridge gateways: a pod IP equal to one is `ip.reserved`. */
  readonly gateways: Address[];
  /** The IPv4 ones as numbers. */
  readonly gateways4: number[];
}

const LINK_LOCAL_4 = literalPrefix('169.254.0.0/16');
const LINK_LOCAL_6 = literalPrefix('fe80::/10');
const LINK_LOCAL_4_FIRST = Number(firstAddress(LINK_LOCAL_4));
const LINK_LOCAL_4_LAST = Number(lastAddress(LINK_LOCAL_4));
const LINK_LOCAL_6_FIRST = firstAddress(LINK_LOCAL_6);
const LINK_LOCAL_6_LAST = lastAddress(LINK_LOCAL_6);

/**
 * Whether a pod IP is one no address rule reports: on a node with a pod CIDR of its family that holds it, none of
 * whose pod CIDRs of that family starts or ends at it, not a bridge gateway of the node, not link-local, of one
 * of the cluster's pod families. Any doubt (no node, no such CIDR) keeps the address for the rules to look at.
 */
function isPlain(facts: NodeFacts, a: Address, clusterFamilies: ReadonlySet<Family>): boolean {
  if (!clusterFamilies.has(a.family)) return false;
  if (a.family === 4) return isPlainIPv4(facts, Number(a.value));
  for (const g of facts.gateways) if (g.family === 6 && g.value === a.value) return false;
  let held = false;
  const v = a.value;
  if (v >= LINK_LOCAL_6_FIRST && v <= LINK_LOCAL_6_LAST) return false;
  for (const s of facts.subnets) {
    if (s.family !== 6) continue;
    if (v === s.first || v === s.last) return false;
    if (v > s.first && v < s.last) held = true;
  }
  return held;
}

/** {@link isPlain} for an IPv4 address given as a number (the cluster is known to have IPv4 pods). */
function isPlainIPv4(facts: NodeFacts, v: number): boolean {
  if (v >= LINK_LOCAL_4_FIRST && v <= LINK_LOCAL_4_LAST) return false;
  for (const g of facts.gateways4) if (g === v) return false;
  let held = false;
  for (const s of facts.subnets) {
    if (s.family !== 4) continue;
    if (v === s.first4 || v === s.last4) return false;
    if (v > s.first4 && v < s.last4) held = true;
  }
  return held;
}

interface Screen {
  readonly toCheck: readonly AddressEntry[];
  readonly podIPv4: Float64Array;
  readonly heldPodIPv4: Uint32Array;
  readonly heldPodOthers: readonly AddressEntry[];
  readonly multiIPPods: readonly number[];
}

const screened = new WeakMap<RangeIndex, Screen>();

/**
 * The entries of `ranges.addresses` the address rules must look at, in their order: every one but the plain pod
 * IPs (see {@link isPlain}). Made on first use and kept for the index.
 */
export function addressesToCheck(ranges: RangeIndex): readonly AddressEntry[] {
  const { toCheck } = screen(ranges);
  work.addressEntriesWalked += toCheck.length;
  return toCheck;
}

/**
 * For each entry of `ranges.addresses`, by position: a pod IP's IPv4 value as a number, read from its text once
 * per index; -1 for any other entry (an IPv6 pod IP, an invalid one, one with spaces around it, or no pod IP).
 */
export function podIPv4Values(ranges: RangeIndex): Float64Array {
  return screen(ranges).podIPv4;
}

/**
 * The pod IPs ip.duplicate compares (those of pods that do not share their node's network), found by the screen's
 * one pass: the IPv4 ones read as numbers (`ipv4`, in the pods' order), and the entries of the others (IPv6, invalid
 * or spaced texts), whose addresses it parses.
 */
export function heldPodIPs(ranges: RangeIndex): {
  readonly ipv4: Uint32Array;
  readonly others: readonly AddressEntry[];
} {
  const s = screen(ranges);
  return { ipv4: s.heldPodIPv4, others: s.heldPodOthers };
}

/**
 * The pods with more than one IP, as triples: where in `ranges.addresses` a pod's entries start and end, and its
 * place in `ranges.pods`. cidr.family-mismatch compares a pod's IPs with each other, so a pod with one IP is never
 * read.
 */
export function multiIPPods(ranges: RangeIndex): readonly number[] {
  return screen(ranges).multiIPPods;
}

/**
 * The one pass over the pod IPs of an index: by pod, not by entry, so each pod's node and network are read once
 * and no entry of a plain pod IP is touched (a pod IP's text is its pod's, which the entry would read again).
 */
function screen(ranges: RangeIndex): Screen {
  const known = screened.get(ranges);
  if (known) return known;
  const facts = new Map<string, NodeFacts>();
  const factsOf = (node: string): NodeFacts => {
    let f = facts.get(node);
    if (!f) facts.set(node, (f = { subnets: [], gateways: [], gateways4: [] }));
    return f;
  };
  const clusterFamilies = new Set<Family>();
  for (const r of ranges.ranges) {
    if (!parsedRange(r)) continue;
    if (r.role === 'cluster-pods') clusterFamilies.add(r.prefix.family);
    if (r.node === undefined) continue;
    if (r.role === 'node-pods') {
      const first = firstAddress(r.prefix);
      const last = lastAddress(r.prefix);
      const v4 = r.prefix.family === 4;
      factsOf(r.node).subnets.push({
        family: r.prefix.family,
        first,
        last,
        first4: v4 ? Number(first) : -1,
        last4: v4 ? Number(last) : -1,
      });
    } else if (r.role === 'bridge') {
      const f = factsOf(r.node);
      f.gateways.push({ family: r.prefix.family, value: r.prefix.address });
      if (r.prefix.family === 4) f.gateways4.push(Number(r.prefix.address));
    }
  }
  const hasIPv4 = clusterFamilies.has(4);
  const toCheck: AddressEntry[] = [];
  const { otherAddresses, pods, podIPsFrom, podIPsTo } = ranges;
  for (let i = 0; i < podIPsFrom; i++) toCheck.push(otherAddresses[i]);
  const podIPv4 = new Float64Array(otherAddresses.length + podIPsTo - podIPsFrom).fill(-1);
  // An IPv4 value is below 2^32: held as such, sorted as integers (ip.duplicate), half the size of doubles.
  const heldPodIPv4 = new Uint32Array(podIPsTo - podIPsFrom);
  let held4 = 0;
  const heldPodOthers: AddressEntry[] = [];
  const multiIPPods: number[] = [];
  // Pods come node after node in most files: the last node's facts are kept at hand.
  let lastNode: string | undefined;
  let lastFacts: NodeFacts | undefined;
  let at = podIPsFrom;
  work.podIPEntriesWalked += podIPsTo - podIPsFrom; // each pod IP, once, in the loop below
  for (let p = 0; p < pods.length; p++) {
    const pod = pods[p];
    const ips = pod.ips;
    const hostNetwork = pod.hostNetwork;
    if (ips.length > 1) multiIPPods.push(at, at + ips.length, p);
    if (pod.node !== lastNode) {
      lastNode = pod.node;
      lastFacts = facts.get(pod.node);
    }
    for (let k = 0; k < ips.length; k++, at++) {
      // The same value parseAddress gives: a text without spaces around it and without ':' is IPv4 or invalid.
      const v4 = ipv4Number(ips[k]);
      podIPv4[at] = v4;
      if (v4 >= 0) {
        if (!hostNetwork) {
          heldPodIPv4[held4++] = v4;
          if (lastFacts && hasIPv4 && isPlainIPv4(lastFacts, v4)) continue;
        }
        toCheck.push(podEntryAt(ranges, at, pod, k));
        continue;
      }
      // Not a dotted quad (IPv6, invalid or spaced): its entry, looked up once, parses the address.
      const entry = podEntryAt(ranges, at, pod, k);
      if (!hostNetwork) {
        heldPodOthers.push(entry);
        if (lastFacts && entry.address && isPlain(lastFacts, entry.address, clusterFamilies)) continue;
      }
      toCheck.push(entry);
    }
  }
  for (let i = podIPsFrom; i < otherAddresses.length; i++) toCheck.push(otherAddresses[i]);
  const made = { toCheck, podIPv4, heldPodIPv4: heldPodIPv4.subarray(0, held4), heldPodOthers, multiIPPods };
  screened.set(ranges, made);
  return made;
}
