/** Hovers on flannel's keys: the concept with a link to its source, and each node's VTEP as NetPath builds it. */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { analyse, hoverAt } from '../../../src/core';
import { vtepMac } from '../../../src/core/cni/flannel';

const file = path.join(__dirname, '../../../examples/cni-flannel-vxlan/cluster.netpath.yaml');
const text = fs.readFileSync(file, 'utf8');
const analysis = analyse([{ path: file, text }]);
const hover = (needle: string, into = 1) => {
  const at = text.indexOf(needle);
  assert.ok(at >= 0, `${needle} not in the example`);
  return hoverAt(analysis, file, at + into)?.markdown ?? '';
};

describe('hover/flannel', () => {
  it('plugin: flannel explains how flannel wires a pod, with a link to its source', () => {
    const md = hover('plugin: flannel', 'plugin: '.length + 1);
    assert.match(md, /\*\*flannel\*\*/);
    assert.match(md, /cni0/);
    assert.match(md, /\(https:\/\/github\.com\/flannel-io\/flannel\/tree\/master\/pkg\)/);
  });

  it("the VXLAN keys (vni, port, type) explain the VTEP and list each node's, as the data plane has them", () => {
    for (const key of ['vni: 1', 'port: 8472', 'type: vxlan']) {
      const md = hover(key);
      assert.match(md, /\*\*VXLAN \(flannel\.1\)\*\*/, key);
      assert.match(md, /nolearning/, key);
      assert.match(md, /github\.com\/flannel-io\/flannel\/tree\/master\/pkg\/backend\/vxlan/, key);
      assert.match(
        md,
        new RegExp(
          `Node node1: \`flannel\\.1\` 10\\.244\\.1\\.0/32, MAC ${vtepMac('node1', 'flannel.1')}, VNI 1, UDP 8472 from 192\\.168\\.56\\.11 \\(eth0\\); MTU 1450 \\(underlay 1500 - 50\\), pods 1450\\.`,
        ),
        key,
      );
      assert.match(md, /Node node2: `flannel\.1` 10\.244\.2\.0\/32/, key);
    }
  });

  it('a node says it is wired by flannel VXLAN', () => {
    const md = hover('name: node1', 'name: '.length + 1);
    assert.match(md, /flannel VXLAN: VTEP flannel\.1 \(VNI 1, UDP 8472, 10\.244\.1\.0\/32/);
  });

  it('the network MTU explains encapsulation overhead', () => {
    const md = hover('mtu: 1500');
    assert.match(md, /\*\*MTU and encapsulation\*\*/);
    assert.match(md, /VXLAN: 50 bytes/);
  });
});

describe('hover/flannel dual-stack VXLAN', () => {
  const file6 = path.join(__dirname, '../../../examples/cni-flannel-vxlan-dual-stack/cluster.netpath.yaml');
  const text6 = fs.readFileSync(file6, 'utf8');
  const analysis6 = analyse([{ path: file6, text: text6 }]);
  const hover6 = (needle: string, into = 1) => {
    const at = text6.indexOf(needle);
    assert.ok(at >= 0, `${needle} not in the example`);
    return hoverAt(analysis6, file6, at + into)?.markdown ?? '';
  };

  it("ipv6Network lists each node's IPv6 VTEP flannel-v6.1 after flannel.1, with its /128 and the MTU for VXLAN over IPv6", () => {
    const md = hover6('ipv6Network:');
    assert.match(
      md,
      new RegExp(
        `Node node1: \`flannel-v6\\.1\` fd00:10:244:1::/128, MAC ${vtepMac('node1', 'flannel-v6.1')}, VNI 1, UDP 8472 from fd00:56::11 \\(eth0\\); MTU 1430 \\(underlay 1500 - 70\\), pods 1450\\.`,
      ),
    );
    assert.ok(md.indexOf('`flannel.1` 10.244.1.0/32') < md.indexOf('`flannel-v6.1`'), 'IPv4 first');
  });

  it('the VXLAN concept explains the second VTEP', () => {
    assert.match(hover6('type: vxlan'), /flannel-v6\.<VNI>/);
  });
});
