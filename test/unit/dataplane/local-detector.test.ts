/**
 * kube-proxy's InterfaceNamePrefix local-traffic detector matches the pods' host veths, so its prefix follows the
 * CNI plug-in (Calico's `cali`, the others' `veth`) unless KubeProxyConfiguration's detectLocal says otherwise; a
 * pod's Service traffic is then "local" (not masqueraded) on every plug-in.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { analyse, nodeRulesText } from '../../../src/core';

const withDetector = (file: string) =>
  readFileSync(file, 'utf8').replace('localDetector: ClusterCIDR', 'localDetector: InterfaceNamePrefix');
const rules = (text: string, extra: { path: string; text: string }[] = []) => {
  const a = analyse([{ path: '/w/c.netpath.yaml', text }, ...extra]);
  return nodeRulesText(a.topology, 'node1') ?? '';
};

describe('dataplane/kube-proxy local detector by interface prefix', () => {
  it('follows the plug-in: cali+ on Calico (routed and VXLAN), veth+ on the bridge plug-in, ptp and flannel', () => {
    const cases: [string, string][] = [
      ['examples/cni-calico/cluster.netpath.yaml', 'cali+'],
      ['examples/cni-calico-vxlan/cluster.netpath.yaml', 'cali+'],
      ['examples/cni-ptp/cluster.netpath.yaml', 'veth+'],
      ['examples/cni-flannel-vxlan/cluster.netpath.yaml', 'veth+'],
      ['examples/two-node-lab/cluster.netpath.yaml', 'veth+'],
    ];
    for (const [file, prefix] of cases) {
      const text = withDetector(file);
      assert.ok(text.includes('localDetector: InterfaceNamePrefix'), file);
      const out = rules(text);
      assert.match(
        out,
        new RegExp(`^-A KUBE-SVC-.* ! -i ${prefix.replace('+', '\\+')} -j KUBE-MARK-MASQ$`, 'm'),
        `${file}: ${prefix}`,
      );
      const other = prefix === 'cali+' ? 'veth+' : 'cali+';
      assert.ok(!out.includes(`-i ${other}`), `${file}: no ${other}`);
    }
  });

  it("takes KubeProxyConfiguration's detectLocal.interfaceNamePrefix when written", () => {
    const text = readFileSync('examples/cni-calico/cluster.netpath.yaml', 'utf8').replace(
      / {2}kubeProxy:\n( {4}.*\n)+/,
      '',
    );
    const config = {
      path: '/w/kube-proxy.yaml',
      text: 'apiVersion: kubeproxy.config.k8s.io/v1alpha1\nkind: KubeProxyConfiguration\nmode: iptables\ndetectLocalMode: InterfaceNamePrefix\ndetectLocal:\n  interfaceNamePrefix: eni\n',
    };
    const out = rules(text, [config]);
    assert.match(out, /! -i eni\+ /);
    assert.ok(!out.includes('-i cali+'));
  });
});
