import { parseAddress, parsePrefix, type Family } from '../net/address';
import { problem, type Problem, type Span } from '../problem';
import { parsedRange, podEntryAt, type AddressEntry, type RangeEntry } from './ranges';
import { podsById } from '../model/pods-by-id';
import type { Rule } from './rule';
import { addressesToCheck, multiIPPods } from './address-screen';
import { work } from '../work';

const familyName = (f: Family) => (f === 4 ? 'IPv4' : 'IPv6');

/**
 * `cidr.family-mismatch`: an address of an IP family the cluster does not have (an IPv6 pod IP in an IPv4-only
 * cluster), two values of one family in a list that takes one per family (`podCIDRs: [10.244.0.0/16,
 * 10.245.0.0/16]`), or a route whose gateway is of another family than its destination.
 */
export const cidrFamilyMismatch: Rule = {
  code: 'cidr.family-mismatch',
  severity: 'error',
  description:
    'An address of an IP family the cluster does not have, or two of one family where one per family is allowed.',
  run({ topology, ranges }) {
    const out: Problem[] = [];
    const report = (message: string, span: Span, related: Problem['related'] = []) =>
      out.push(problem('cidr.family-mismatch', 'error', message, span, related));

    // One per family: the second value of a family in the same list.
    const second = (e: RangeEntry | AddressEntry, family: Family, first: { text: string; span: Span }) =>
      report(
        `${e.perFamily} has two ${familyName(family)} values (${first.text} and ${e.text}): the list takes at most one per IP family (one IPv4, one IPv6), so only the first is used.`,
        e.span,
        [{ span: first.span, message: `the first ${familyName(family)} value: ${first.text}` }],
      );
    // The first value of each list, per family (ranges, then addresses: every pod's IPs are a list).
    const firstOfFamily: Record<Family, Map<string, { text: string; span: Span }>> = { 4: new Map(), 6: new Map() };
    const onePerFamily = (e: RangeEntry | AddressEntry, family: Family | undefined) => {
      if (!e.perFamily || !family || !e.exact) return; // Derived values (a default bridge address) follow their source.
      const first = firstOfFamily[family].get(e.perFamily);
      if (first) second(e, family, first);
      else firstOfFamily[family].set(e.perFamily, { text: e.text, span: e.span });
    };
    for (const r of ranges.ranges) onePerFamily(r, r.prefix?.family);
    // When no two pods share an id, each pod's IPs are a list of their own, next to each other in the index: they
    // are compared there, only for the pods with more than one IP (one IP is never a second of its family, and its
    // address need not be parsed to know it), which the address screen found in its pass; the 150,000 pods of a
    // large cluster make no map entry and are not walked again.
    const { otherAddresses, podIPsFrom } = ranges;
    if (podsById(topology).size === topology.pods.length) {
      for (let i = 0; i < podIPsFrom; i++) onePerFamily(otherAddresses[i], otherAddresses[i].address?.family);
      const several = multiIPPods(ranges);
      for (let p = 0; p < several.length; p += 3) {
        const from = several[p];
        const to = several[p + 1];
        const pod = ranges.pods[several[p + 2]];
        let first4: AddressEntry | undefined;
        let first6: AddressEntry | undefined;
        for (let k = from; k < to; k++) {
          work.podIPEntriesWalked++;
          const e = podEntryAt(ranges, k, pod, k - from);
          const family = e.address?.family;
          if (!e.perFamily || !family || !e.exact) continue;
          const first = family === 4 ? first4 : first6;
          if (first) second(e, family, first);
          else if (family === 4) first4 = e;
          else first6 = e;
        }
      }
      for (let i = podIPsFrom; i < otherAddresses.length; i++)
        onePerFamily(otherAddresses[i], otherAddresses[i].address?.family);
    } else {
      const addresses = ranges.addresses;
      for (let i = 0; i < addresses.length; i++) {
        const a = addresses[i];
        if (a.role === 'pod') work.podIPEntriesWalked++;
        onePerFamily(a, a.address?.family);
      }
    }

    // Families the cluster has: those of its pod CIDRs (and of its Service ranges for cluster IPs).
    const podFamilies = new Set(
      ranges.ranges
        .filter(parsedRange)
        .filter((r) => r.role === 'cluster-pods')
        .map((r) => r.prefix.family),
    );
    // An assumed Service range (nothing read declares one) says nothing about the cluster's families.
    const serviceFamilies = new Set(
      ranges.ranges
        .filter(parsedRange)
        .filter((r) => r.role === 'services' && !r.assumed)
        .map((r) => r.prefix.family),
    );
    const has = (set: Set<Family>) => [...set].sort().map(familyName).join(' and ');
    if (podFamilies.size) {
      for (const r of ranges.ranges) {
        if (!r.prefix || podFamilies.has(r.prefix.family)) continue;
        if (r.role === 'node-pods' || (r.role === 'bridge' && r.exact)) {
          report(
            `${r.text} (${r.owner}) is ${familyName(r.prefix.family)}, but the cluster pod CIDRs are ${has(podFamilies)} only: pods of this family get no cluster-wide routes or Service rules. Add an ${familyName(r.prefix.family)} range to the cluster podCIDRs for dual-stack, or remove this one.`,
            r.span,
          );
        } else if (r.role === 'services' && !r.assumed) {
          report(
            `The Service range ${r.text} is ${familyName(r.prefix.family)}, but the cluster pod CIDRs are ${has(podFamilies)} only: Services of this family would have no pods to send traffic to.`,
            r.span,
          );
        }
      }
      for (const a of addressesToCheck(ranges)) {
        if (a.role === 'pod' && !a.hostNetwork && a.address && !podFamilies.has(a.address.family)) {
          report(
            `Pod IP ${a.text} (${a.owner}) is ${familyName(a.address.family)}, but the cluster pod CIDRs are ${has(podFamilies)} only.`,
            a.span,
          );
        }
      }
    }
    if (serviceFamilies.size) {
      for (const a of addressesToCheck(ranges)) {
        if (a.role === 'cluster-ip' && a.address && !serviceFamilies.has(a.address.family)) {
          report(
            `Cluster IP ${a.text} (${a.owner}) is ${familyName(a.address.family)}, but the Service ranges are ${has(serviceFamilies)} only: the API server would never hand it out.`,
            a.span,
          );
        }
      }
    }

    // A route's gateway must be of the destination's family.
    for (const n of topology.nodes) {
      for (const r of n.routes) {
        if (r.source !== 'declared' || !r.via) continue;
        const to = parsePrefix(r.to)?.family ?? parseAddress(r.to)?.family;
        const via = parseAddress(r.via)?.family;
        if (to && via && to !== via) {
          report(
            `The route to ${r.to} on node ${n.name} goes via ${r.via}: an ${familyName(to)} destination needs an ${familyName(to)} gateway.`,
            r.spans.via ?? r.span,
          );
        }
      }
    }
    return out;
  },
};
