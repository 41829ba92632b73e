import { addressKey, formatAddress, type Family } from '../net/address';
import { problem, type Problem } from '../problem';
import { FreeAddresses, usedAddressKeys, podRanges } from './fixes';
import { parsedRange, type AddressEntry } from './ranges';
import type { Rule } from './rule';

/**
 * `service.cluster-ip-duplicate`: two Services with the same cluster IP. The API server rejects the second;
 * if both reach kube-proxy, the first rule wins and the other Service is unreachable.
 */
export const serviceClusterIpDuplicate: Rule = {
  code: 'service.cluster-ip-duplicate',
  severity: 'error',
  description: 'Two Services share a cluster IP.',
  run({ ranges }) {
    const first = new Map<string, AddressEntry>();
    const services = ranges.ranges.filter(parsedRange).filter((r) => r.role === 'services');
    // Each family's free cluster IPs, handed out one after another: each duplicate gets another.
    const free = new Map<Family, FreeAddresses | undefined>();
    const freeOf = (family: Family): FreeAddresses | undefined => {
      if (!free.has(family)) {
        const pool = services.find((r) => r.prefix.family === family);
        free.set(family, pool && new FreeAddresses(pool.prefix, usedAddressKeys(ranges), true, podRanges(ranges)));
      }
      return free.get(family);
    };
    const out: Problem[] = [];
    // The cluster IPs are among the entries that are no pod IP (the pods' are most of a large cluster's, 150,000 at
    // Kubernetes' limits, and none of them is walked). Indexed: run once, mostly before the rule is optimised.
    const addresses = ranges.otherAddresses;
    for (let i = 0; i < addresses.length; i++) {
      const a = addresses[i];
      if (a.role !== 'cluster-ip') continue;
      const address = a.address;
      if (!address) continue;
      const key = addressKey(address);
      const seen = first.get(key);
      if (!seen) {
        first.set(key, a);
        continue;
      }
      if (seen.owner === a.owner) continue; // cidr.family-mismatch reports a list with one address twice.
      const pool = services.find((r) => r.prefix.family === address.family);
      const freeAt = a.exact ? freeOf(address.family)?.next() : undefined;
      const freeText = freeAt && formatAddress(freeAt);
      out.push(
        problem(
          'service.cluster-ip-duplicate',
          'error',
          `Cluster IP ${a.text} of ${a.owner} is already the cluster IP of ${seen.owner}: the API server rejects the second Service, and kube-proxy would send both to the endpoints of the first.`,
          a.span,
          [{ span: seen.span, message: `cluster IP of ${seen.owner}` }],
          freeText && pool
            ? [
                {
                  title: `Change to ${freeText}, a free address in ${pool.prefix.text}`,
                  edits: [{ span: a.span, newText: freeText }],
                  preferred: true,
                },
              ]
            : [],
        ),
      );
    }
    return out;
  },
};
