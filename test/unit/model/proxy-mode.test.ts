/**
 * kube-proxy's mode, from every configuration that says it: the NetPath document, KubeProxyConfiguration `mode`,
 * kind's `networking.kubeProxyMode` (kind writes it into the KubeProxyConfiguration it generates: kind
 * pkg/cluster/internal/kubeadm/config.go). Disagreements are `k8s.config-conflict` at both places; `k8s.proxy-mode`
 * speaks only where NetPath does not model the mode (ipvs, kind's none), never for iptables or nftables.
 */
import assert from 'node:assert/strict';
import { analyse } from '../../../src/core';

const KIND = (mode: string) =>
  `kind: Cluster\napiVersion: kind.x-k8s.io/v1alpha4\nnetworking:\n  kubeProxyMode: ${mode}\nnodes:\n  - role: control-plane\n`;
const KUBE_PROXY = (mode: string) =>
  `apiVersion: kubeproxy.config.k8s.io/v1alpha1\nkind: KubeProxyConfiguration\nmode: ${mode}\nclusterCIDR: 10.244.0.0/16\n`;
const NETPATH = (mode: string) =>
  `apiVersion: netpath.dev/v1alpha1\nkind: Topology\nmetadata: {name: t}\ncluster:\n  podCIDRs: [10.244.0.0/16]\n  serviceCIDRs: [10.96.0.0/16]\n  kubeProxy: {mode: ${mode}}\n`;

const codes = (a: ReturnType<typeof analyse>, code: string) => a.diagnostics.filter((d) => d.code === code);

describe('kube-proxy mode from kind, kube-proxy and NetPath configurations', () => {
  for (const mode of ['iptables', 'nftables'] as const) {
    it(`kind's kubeProxyMode: ${mode} drives the mode, and says nothing more`, () => {
      const a = analyse([{ path: '/t/kind.yaml', text: KIND(mode) }]);
      assert.equal(a.topology.cluster.kubeProxy.mode, mode);
      assert.deepEqual(
        a.diagnostics.filter((d) => d.code.startsWith('k8s.')).map((d) => d.code),
        [],
      );
    });
  }

  it("kind's kubeProxyMode: ipvs is recognised, with k8s.proxy-mode at the value", () => {
    const text = KIND('ipvs');
    const a = analyse([{ path: '/t/kind.yaml', text }]);
    assert.equal(a.topology.cluster.kubeProxy.mode, 'ipvs');
    const [d] = codes(a, 'k8s.proxy-mode');
    assert.equal(text.slice(d.span.start, d.span.end), 'ipvs');
  });

  it("kind's kubeProxyMode: none says that no kube-proxy runs and what NetPath traces instead", () => {
    const text = KIND('none');
    const a = analyse([{ path: '/t/kind.yaml', text }]);
    const [d] = codes(a, 'k8s.proxy-mode');
    assert.equal(text.slice(d.span.start, d.span.end), 'none');
    assert.match(d.message, /kind deploys no kube-proxy/);
    assert.equal(a.topology.cluster.kubeProxy.mode, 'iptables');
  });

  it('a KubeProxyConfiguration wins over kind, and the disagreement is reported at both values', () => {
    const kind = KIND('nftables');
    const kp = KUBE_PROXY('iptables');
    const a = analyse([
      { path: '/t/a-kind.yaml', text: kind },
      { path: '/t/b-kube-proxy.yaml', text: kp },
    ]);
    assert.equal(a.topology.cluster.kubeProxy.mode, 'iptables');
    const found = codes(a, 'k8s.config-conflict').map((d) => [
      d.span.file,
      (d.span.file.endsWith('kind.yaml') ? kind : kp).slice(d.span.start, d.span.end),
    ]);
    assert.deepEqual(found.sort(), [
      ['/t/a-kind.yaml', 'nftables'],
      ['/t/b-kube-proxy.yaml', 'iptables'],
    ]);
    assert.match(
      codes(a, 'k8s.config-conflict').find((d) => d.span.file === '/t/a-kind.yaml')?.message ?? '',
      /kind Cluster networking\.kubeProxyMode \(nftables\) disagrees with KubeProxyConfiguration mode \(iptables\): NetPath uses iptables/,
    );
  });

  it('the NetPath document wins over both; configurations that agree say nothing', () => {
    const a = analyse([
      { path: '/t/kind.yaml', text: KIND('nftables') },
      { path: '/t/kp.yaml', text: KUBE_PROXY('nftables') },
      { path: '/t/cluster.yaml', text: NETPATH('iptables') },
    ]);
    assert.equal(a.topology.cluster.kubeProxy.mode, 'iptables');
    assert.equal(codes(a, 'k8s.config-conflict').length, 4, 'each of the two configurations, at both places');
    const agree = analyse([
      { path: '/t/kind.yaml', text: KIND('nftables') },
      { path: '/t/kp.yaml', text: KUBE_PROXY('nftables') },
    ]);
    assert.equal(agree.topology.cluster.kubeProxy.mode, 'nftables');
    assert.deepEqual(codes(agree, 'k8s.config-conflict'), []);
  });
});
