/**
 * Every CNI plug-in NetPath models, hovered where a topology names it (`cni.plugin`, a node's `cni`), explains how it
 * wires a pod and links to its source; Calico's encapsulation keys and devices explain the tunnel and list each
 * node's as the data plane builds it.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { analyse, hoverAt } from '../../../src/core';
import { CNI_PLUGIN_NAMES } from '../../../src/core/cni';

const hoverIn = (file: string, text: string, needle: string, into: number): string => {
  // The last occurrence: the examples' header comments name the keys too.
  const at = text.lastIndexOf(needle);
  assert.ok(at >= 0, `${needle} not in ${file}`);
  return hoverAt(analyse([{ path: file, text }]), file, at + into)?.markdown ?? '';
};

// What each plug-in's hover must say about the pod's wiring, and where its link must point.
const WIRING: Record<(typeof CNI_PLUGIN_NAMES)[number], { says: RegExp; link: RegExp }> = {
  bridge: { says: /bridge.*default gateway/s, link: /\(https:\/\/www\.cni\.dev\/plugins\/current\/main\/bridge\/\)/ },
  flannel: {
    says: /cni0.*flannel\.<VNI>.*FLANNEL-POSTRTG.*masquerades pod traffic leaving it.*FLANNEL-FWD/s,
    link: /\(https:\/\/github\.com\/flannel-io\/flannel\/tree\/master\/pkg\)/,
  },
  ptp: {
    says: /veth pair and nothing else: no bridge/,
    link: /\(https:\/\/github\.com\/containernetworking\/plugins\/blob\/main\/plugins\/main\/ptp\/ptp\.go\)/,
  },
  kindnet: {
    says: /ptp plug-in.*KIND-MASQ-AGENT/s,
    link: /\(https:\/\/github\.com\/kubernetes-sigs\/kind\/tree\/main\/images\/kindnetd/,
  },
  calico: {
    says: /cali.*169\.254\.1\.1.*vxlanMode/s,
    link: /\(https:\/\/github\.com\/projectcalico\/calico\/blob\/master\/cni-plugin\//,
  },
};

describe('hover/cni plug-ins', () => {
  for (const name of CNI_PLUGIN_NAMES) {
    it(`${name}: cni.plugin and a node's cni explain how it wires a pod, with a link to its source`, () => {
      const text = `apiVersion: netpath.dev/v1alpha1\nkind: Topology\nmetadata:\n  name: t\ncluster:\n  podCIDRs: [10.244.0.0/16]\n  cni:\n    plugin: ${name}\nnodes:\n  - name: node1\n    cni: ${name}\n    interfaces:\n      - {name: eth0, network: lan, address: 192.168.56.11/24}\n    podCIDR: 10.244.1.0/24\nnetworks:\n  - {name: lan, cidr: 192.168.56.0/24}\n`;
      for (const needle of [`plugin: ${name}`, `cni: ${name}`]) {
        const md = hoverIn('/w/t.netpath.yaml', text, needle, needle.indexOf(':') + 3);
        assert.match(md, WIRING[name].says, `${needle}: ${md}`);
        assert.match(md, WIRING[name].link, needle);
      }
    });
  }

  const vxlan = fs.readFileSync('examples/cni-calico-vxlan/cluster.netpath.yaml', 'utf8');
  it("Calico's vxlanMode explains vxlan.calico and lists each node's VTEP, MTU and pod MTU", () => {
    const md = hoverIn('/w/c.netpath.yaml', vxlan, 'vxlanMode: Always', 1);
    assert.match(md, /\*\*Calico VXLAN \(vxlan\.calico\)\*\*/);
    assert.match(md, /VNI 4096, UDP port 4789/);
    assert.match(md, /docs\.tigera\.io\/calico\/latest\/networking\/configuring\/vxlan-ipip/);
    assert.match(
      md,
      /Node node1: `vxlan\.calico` 10\.244\.1\.0\/32, MAC [0-9a-f:]{17}, VNI 4096, UDP 4789 from 192\.168\.56\.11 \(eth0\); MTU 1450 \(underlay 1500 - 50\), pods 1450\./,
    );
  });

  it("Calico's ipipMode explains tunl0 and lists each node's, with IPIP's 20 bytes", () => {
    const ipip = vxlan.replaceAll('vxlanMode: Always', 'ipipMode: Always');
    const md = hoverIn('/w/c.netpath.yaml', ipip, 'ipipMode: Always', 1);
    assert.match(md, /\*\*Calico IP in IP \(tunl0\)\*\*/);
    assert.match(md, /protocol 4/);
    assert.match(
      md,
      /Node node2: `tunl0` 10\.244\.2\.0\/32, IP protocol 4 from 192\.168\.56\.12 \(eth0\); MTU 1480 \(underlay 1500 - 20\), pods 1480\./,
    );
  });
});
