/**
 * The bridge (and ptp) plug-in's ipMasq chain is named from the CNI network's name and the container ID
 * (containernetworking/plugins utils.FormatChainName: `CNI-` + sha512(name + id) in hex, 28 characters; the rules'
 * comment is FormatComment's `name: "<name>" id: "<id>"`). The name is the configured one (`cni.network`, or a
 * conflist's `name`), not a fixed one (issue 13).
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { buildTopology } from '../../../src/core/model/build';
import { bridgeIpMasqRules, cniChainName, containerIdOf } from '../../../src/core/cni/bridge';

const LAB = readFileSync('examples/two-node-lab/cluster.netpath.yaml', 'utf8');
const withMasq = (extra: string) => LAB.replace('    ipMasq: false\n', `    ipMasq: true\n${extra}`);
const natRules = (text: string, path = 'lab.netpath.yaml', more: { path: string; text: string }[] = []) => {
  const t = buildTopology([{ path, text }, ...more]).topology;
  const node = t.nodes[0];
  const pods = t.pods.filter((p) => p.node === node.name);
  assert.ok(pods.length > 0);
  return { t, pods, rules: bridgeIpMasqRules(t, node, pods).nat?.rules ?? [] };
};
/** The upstream algorithm, written out here: sha512 of name + id, hex, after `CNI-`, cut to 28 characters. */
const upstream = (name: string, id: string) =>
  `CNI-${createHash('sha512')
    .update(name + id)
    .digest('hex')}`.slice(0, 28);

describe('cni: ipMasq chain names follow the network name', () => {
  it('a known vector: name "mynet", container ID "c0ffee"', () => {
    // printf 'mynetc0ffee' | sha512sum | cut -c1-24
    assert.equal(cniChainName('mynet', 'c0ffee'), 'CNI-15815ef49e0fdf04a746924c');
  });

  it('cni.network names the chains and comments of every pod', () => {
    const { pods, rules } = natRules(withMasq('    network: mynet\n'));
    for (const pod of pods) {
      if (pod.hostNetwork) continue;
      const id = containerIdOf(pod);
      const chain = upstream('mynet', id);
      const comment = `-m comment --comment "name: \\"mynet\\" id: \\"${id}\\""`;
      assert.ok(
        rules.includes(`-A POSTROUTING -s ${pod.ips[0]}/32 ${comment} -j ${chain}`),
        `${pod.id}: ${rules.join('\n')}`,
      );
      assert.ok(rules.some((r) => r.startsWith(`-A ${chain} `) && r.endsWith('-j MASQUERADE') && r.includes(comment)));
    }
    assert.ok(!rules.some((r) => r.includes('"cbr0"') || r.includes('"kubenet"')));
  });

  it('a bridge device called cbr0 does not make the network "kubenet": the default name is the plug-in\'s (cbr0)', () => {
    const { pods, rules } = natRules(withMasq('').replace('bridge: cni0', 'bridge: cbr0'));
    const id = containerIdOf(pods[0]);
    assert.ok(rules.some((r) => r.includes(`-j ${upstream('cbr0', id)}`)));
    assert.ok(!rules.some((r) => r.includes('kubenet')));
  });
});
