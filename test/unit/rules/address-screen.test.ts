import assert from 'node:assert/strict';
import { analyse } from '../../../src/core';
import { takeWork } from '../../../src/core/work';
import { netpathCluster, type ClusterSize } from '../../../bench/cluster';
import { addressesToCheck } from '../../../src/core/rules/address-screen';
import { indexRanges } from '../../../src/core/rules/ranges';

/**
 * The address rules (ip.reserved, ip.outside-range, cidr.link-local, cidr.family-mismatch, cidr.invalid) share one
 * screen of the pod IPs (src/core/rules/address-screen.ts): a plain pod IP is neither parsed into an address nor
 * walked by any of them, so their work does not grow with the pods of a clean cluster. Counted, never timed.
 */
function analysisWork(size: ClusterSize) {
  const text = netpathCluster(size);
  takeWork();
  const a = analyse([{ path: `c${size.nodes}.yaml`, text }]);
  assert.deepEqual(
    a.diagnostics.filter((d) => d.severity === 'error').map((d) => d.code),
    [],
    'the synthetic cluster is clean',
  );
  return { work: takeWork(), podIPs: a.topology.pods.reduce((n, p) => n + p.ips.length, 0) };
}

describe('address rules and the pod IPs of a clean cluster', () => {
  const FEW: ClusterSize = { name: 'few', nodes: 6, pods: 60, services: 12 };
  const MANY: ClusterSize = { name: 'many', nodes: 6, pods: 480, services: 12 };

  it('walk the same entries whatever the number of pods (only the other addresses)', () => {
    const few = analysisWork(FEW);
    const many = analysisWork(MANY);
    assert.ok(many.podIPs >= 8 * few.podIPs, `${few.podIPs} -> ${many.podIPs} pod IPs`);
    assert.ok(few.work.addressEntriesWalked > 0, 'the cluster IPs are walked');
    assert.equal(many.work.addressEntriesWalked, few.work.addressEntriesWalked);
  });

  it('walk each pod IP once per analysis: the screen reads them, the rules read what it found', () => {
    for (const size of [FEW, MANY]) {
      const { work, podIPs } = analysisWork(size);
      assert.equal(work.podIPEntriesWalked, podIPs, `${size.name}: pod IP entries walked`);
    }
  });

  it('parse no pod IP into an address', () => {
    const many = analysisWork(MANY);
    assert.ok(many.podIPs >= 480);
    assert.equal(many.work.podAddressesParsed, 0);
  });

  it('make no entry for a pod IP no rule reports', () => {
    assert.equal(analysisWork(MANY).work.podAddressEntriesMade, 0);
  });
});

describe('address screen', () => {
  it('keeps every pod IP a rule may report, and only those', () => {
    const text = [
      'apiVersion: netpath.dev/v1alpha1',
      'kind: Topology',
      'cluster: {podCIDRs: [10.244.0.0/16], serviceCIDRs: [10.96.0.0/12]}',
      'nodes:',
      '- name: n1',
      '  podCIDR: 10.244.1.0/24',
      'pods:',
      '- {name: plain, node: n1, ip: 10.244.1.10}',
      '- {name: network, node: n1, ip: 10.244.1.0}',
      '- {name: broadcast, node: n1, ip: 10.244.1.255}',
      '- {name: gateway, node: n1, ip: 10.244.1.1}',
      '- {name: outside, node: n1, ip: 10.244.2.10}',
      '- {name: linklocal, node: n1, ip: 169.254.1.10}',
      '- {name: six, node: n1, ip: "fd00::10"}',
      '- {name: invalid, node: n1, ip: 10.244.1.300}',
      '- {name: spaced, node: n1, ip: " 10.244.1.11"}',
      '- {name: plain2, node: n1, ip: 10.244.1.12}',
      '',
    ].join('\n');
    const a = analyse([{ path: 'topology.netpath.yaml', text }]);
    const index = indexRanges(a.topology);
    const kept = addressesToCheck(index)
      .filter((e) => e.role === 'pod')
      .map((e) => e.owner);
    // The entries made for the screen are those of the whole list, made later.
    const all = index.addresses;
    for (const e of addressesToCheck(index)) assert.ok(all.includes(e), `${e.owner} is in the index's addresses`);
    assert.deepEqual(kept, [
      'pod default/network',
      'pod default/broadcast',
      'pod default/gateway',
      'pod default/outside',
      'pod default/linklocal',
      'pod default/six',
      'pod default/invalid',
    ]);
  });
});
