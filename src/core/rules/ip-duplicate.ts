import { addressKey, formatAddress, type Address } from '../net/address';
import { problem, type Problem, type Span } from '../problem';
import type { AddressEntry, RangeIndex, RangeRole } from './ranges';
import { heldPodIPs, podIPv4Values } from './address-screen';
import type { Rule } from './rule';
import { work } from '../work';

interface Holder {
  readonly what: string;
  readonly kind: 'pod' | 'node' | 'service' | 'external' | 'bridge';
  readonly node: string | undefined;
  readonly span: Span;
  /** A bridge gateway NetPath derived from the node's pod CIDR (not written). */
  readonly derived?: boolean;
}

const keyOf = (address: Address): number | string =>
  address.family === 4 ? Number(address.value) : addressKey(address);

/** The addresses the rule compares: pod IPs (not of hostNetwork pods, which share their node's) and cluster IPs. */
const isHeldAddress = (a: AddressEntry): boolean => (a.role === 'pod' && !a.hostNetwork) || a.role === 'cluster-ip';
/** The ranges whose address the rule compares. */
const HELD_RANGE_ROLES: ReadonlySet<RangeRole> = new Set(['interface', 'external', 'bridge']);

/**
 * The keys of the addresses held more than once. IPv4 values are sorted as numbers in a typed array, so the
 * hundreds of thousands of pod IPs of a large cluster make no map entry and no holder object (the address screen
 * read them as numbers already: no pod's entry is walked here); IPv6 ones are counted by key.
 */
function sharedKeys(ranges: RangeIndex): Set<number | string> {
  const pods = heldPodIPs(ranges);
  let v4 = new Uint32Array(pods.ipv4.length + 1024);
  v4.set(pods.ipv4);
  let n4 = pods.ipv4.length;
  const v6 = new Map<string, number>();
  const countIPv4 = (value: number) => {
    if (n4 === v4.length) {
      const grown = new Uint32Array(v4.length * 2);
      grown.set(v4);
      v4 = grown;
    }
    v4[n4++] = value;
  };
  const count = (address: Address) => {
    if (address.family === 4) return countIPv4(Number(address.value));
    const key = addressKey(address);
    v6.set(key, (v6.get(key) ?? 0) + 1);
  };
  for (const a of pods.others) if (a.address) count(a.address);
  for (const a of ranges.otherAddresses) if (isHeldAddress(a) && a.address) count(a.address);
  for (const r of ranges.ranges)
    if (r.prefix && HELD_RANGE_ROLES.has(r.role)) count({ family: r.prefix.family, value: r.prefix.address });
  const shared = new Set<number | string>();
  const sorted = v4.subarray(0, n4).sort();
  for (let i = 1; i < n4; i++) if (sorted[i] === sorted[i - 1]) shared.add(sorted[i]);
  for (const [key, n] of v6) if (n > 1) shared.add(key);
  return shared;
}

/**
 * `ip.duplicate`: one address on two objects — pods (on the same node or on different ones, weave#3793), node
 * interfaces, Service cluster IPs, external clients and bridges. hostNetwork pods share their node's address by
 * design and are left out; two Services sharing a cluster IP are `service.cluster-ip-duplicate`, and a pod on
 * its own node's bridge gateway is `ip.reserved`. The addresses held more than once are found first, by
 * sorting; only they are grouped, by address in a map.
 */
export const ipDuplicate: Rule = {
  code: 'ip.duplicate',
  severity: 'error',
  description: 'One IP address used by two objects (pods, nodes, Services, externals, bridges).',
  run({ ranges }) {
    const shared = sharedKeys(ranges);
    if (!shared.size) return [];
    // One map for both families (its order is the order of the findings): an IPv4 address by its number, which
    // needs no key text per pod, an IPv6 one by its key text. Only the addresses held more than once enter it.
    const byAddress = new Map<number | string, { address: Address; holders: Holder[] }>();
    const add = (address: Address | undefined, h: Holder) => {
      if (!address) return;
      const key = keyOf(address);
      if (!shared.has(key)) return;
      const group = byAddress.get(key);
      if (group) group.holders.push(h);
      else byAddress.set(key, { address, holders: [h] });
    };
    const podIPv4 = podIPv4Values(ranges);
    const addresses = ranges.addresses;
    for (let i = 0; i < addresses.length; i++) {
      // A pod IP's value is at hand as a number: its entry is read, and its address made, only when it is held twice.
      if (podIPv4[i] >= 0 && !shared.has(podIPv4[i])) continue;
      const a = addresses[i];
      if (!isHeldAddress(a)) continue;
      if (a.role === 'pod') {
        work.podIPEntriesWalked++;
        add(a.address, { what: a.owner, kind: 'pod', node: a.node, span: a.span });
      } else add(a.address, { what: a.owner, kind: 'service', node: undefined, span: a.span });
    }
    for (const r of ranges.ranges) {
      if (!r.prefix) continue;
      const address = { family: r.prefix.family, value: r.prefix.address };
      if (r.role === 'interface') add(address, { what: r.owner, kind: 'node', node: r.node, span: r.span });
      else if (r.role === 'external') add(address, { what: r.owner, kind: 'external', node: undefined, span: r.span });
      else if (r.role === 'bridge')
        add(address, { what: r.owner, kind: 'bridge', node: r.node, span: r.span, derived: !r.exact });
    }
    const out: Problem[] = [];
    for (const { address, holders: all } of byAddress.values()) {
      if (all.length < 2) continue; // One holder: nothing to filter or report.
      // One owner listing an address twice is one holder (cidr.family-mismatch reports the list), never "x and also x".
      const holders = all.filter((h, i) => all.findIndex((o) => o.what === h.what) === i);
      if (holders.length < 2) continue;
      // Gateways NetPath derived from pod CIDRs repeat a pod CIDR overlap, which cidr.overlap reports at its cause.
      if (holders.every((h) => h.kind === 'bridge' && h.derived)) continue;
      if (holders.every((h) => h.kind === 'service')) continue; // service.cluster-ip-duplicate
      const bridges = holders.filter((h) => h.kind === 'bridge');
      if (
        holders.length === 2 &&
        bridges.length === 1 &&
        holders.some((h) => h.kind === 'pod' && h.node === bridges[0].node)
      )
        continue; // ip.reserved
      const text = formatAddress(address);
      const nodes = new Set(holders.map((h) => h.node).filter((n) => n !== undefined));
      const across = nodes.size > 1 ? ` on different nodes (${[...nodes].join(', ')})` : '';
      for (const h of holders) {
        const others = holders.filter((o) => o !== h);
        out.push(
          problem(
            'ip.duplicate',
            'error',
            `${text} is used by ${h.what} and also by ${others
              .slice(0, 3)
              .map((o) => o.what)
              .join(
                ', ',
              )}${others.length > 3 ? ` and ${others.length - 3} more` : ''}${across}: replies and routes can reach only one of them, so connections to the others fail at random.`,
            h.span,
            others.slice(0, 10).map((o) => ({ span: o.span, message: `${text} is also used by ${o.what}` })),
          ),
        );
      }
    }
    return out;
  },
};
