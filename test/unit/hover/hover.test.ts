import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { analyse, hoverAt } from '../../../src/core';

const file = path.join(__dirname, '../../../examples/two-node-lab/cluster.netpath.yaml');
const text = fs.readFileSync(file, 'utf8');
const analysis = analyse([{ path: file, text }]);
const hover = (needle: string, nth = 0, into = 1) => {
  let at = -1;
  for (let i = 0; i <= nth; i++) at = text.indexOf(needle, at + 1);
  assert.ok(at >= 0, `${needle} not in the example`);
  return hoverAt(analysis, file, at + into)?.markdown ?? '';
};

describe('hover', () => {
  const concepts: [string, RegExp, RegExp][] = [
    ['podCIDRs', /Pod CIDR[\s\S]*Classless Inter-Domain Routing/, /kubernetes\.io[\s\S]*rfc4632/],
    ['serviceCIDRs', /Service range/, /kubernetes\.io/],
    ['hairpinMode', /Hairpin mode/, /cni\.dev/],
    ['ipMasq', /masquerades/, /cni\.dev/],
    ['masqueradeAll', /MASQUERADE is SNAT/, /iptables-extensions/],
    ['interfaces', /veth pair/, /ip-link/],
    ['externals', /four kinds of communication/, /kubernetes\.io/],
    ['bridge:', /bridging versus routing/, /cni\.dev/],
  ];
  for (const [key, concept, link] of concepts) {
    it(`explains ${key} with a link to its source`, () => {
      const md = hover(key);
      assert.match(md, concept);
      assert.match(md, link);
    });
  }

  it('explains values that name a concept: eth0 and a NodePort type', () => {
    assert.match(hover('eth0'), /\*\*eth0\*\*[\s\S]*veth pair/);
    assert.match(hover('NodePort'), /\*\*NodePort\*\*/);
  });

  it('explains Kubernetes object fields in manifests too', () => {
    const m = path.join(__dirname, '../../../examples/two-node-manifests/workloads.yaml');
    const mt = fs.readFileSync(m, 'utf8');
    const a = analyse([{ path: m, text: mt }]);
    const at = (needle: string) => hoverAt(a, m, mt.indexOf(needle) + 1)?.markdown ?? '';
    assert.match(at('podIP:'), /Pod networking/);
    assert.match(at('targetPort'), /stable virtual IP/);
    assert.match(at('nodePort'), /\*\*NodePort\*\*/);
  });

  it('shows first and last address, size, and containment for a CIDR value', () => {
    const md = hover('10.244.0.0/16', 0, 3);
    assert.match(md, /first address 10\.244\.0\.0, last address 10\.244\.255\.255, 65,536 addresses/);
    assert.match(md, /Contains 10\.244\.1\.0\/24 \(pod CIDR of node node1\)/);
  });

  it('shows which ranges contain a node pod CIDR', () => {
    assert.match(hover('10.244.2.0/24', 0, 3), /Inside 10\.244\.0\.0\/16 \(cluster pod CIDR\)/);
  });

  it("shows a pod's IP, node, veth pair, bridge and the Services that select it", () => {
    const md = hover('web-1');
    assert.match(md, /Pod \*\*default\/web-1\*\* on node node1, IP 10\.244\.1\.11/);
    assert.match(md, /`eth0` in the pod's namespace ↔ `veth[0-9a-f]{8}`/);
    assert.match(md, /bridge `cni0` \(gateway 10\.244\.1\.1\)/);
    assert.match(md, /Selected by Services: default\/web/);
  });

  it("shows a Service's cluster IP and endpoints with their probabilities", () => {
    const md = hover('name: web\n', 0, 7);
    assert.match(md, /cluster IP 10\.96\.0\.10/);
    assert.match(md, /stable virtual IP/);
    assert.match(md, /2 endpoints, each chosen with probability 1\/2 \(50\.0%\)/);
    assert.match(md, /10\.244\.2\.10 \(default\/web-2 on node2\) → 8080 via `KUBE-SEP-[A-Z2-7]{16}`/);
    assert.match(md, /kube-proxy chains `KUBE-SVC-[A-Z2-7]{16}`, `KUBE-EXT-[A-Z2-7]{16}`/);
  });

  it('says nothing where nothing is meaningful', () => {
    assert.equal(hoverAt(analysis, file, 0), undefined);
    assert.equal(hoverAt(analysis, '/elsewhere.yaml', 10), undefined);
  });
});
