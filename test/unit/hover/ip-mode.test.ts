/** The Service hover says what each load-balancer IP's ipMode means for a pod's packet (issue 14). */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { analyse, hoverAt } from '../../../src/core';

const file = path.join(__dirname, '../../fixtures/traces/loadbalancer-ipmode-proxy/topology.yaml');
const text = fs.readFileSync(file, 'utf8');
const analysis = analyse([{ path: file, text }]);
const hover = (needle: string) => {
  const at = text.indexOf(needle);
  assert.ok(at >= 0, `${needle} not in the topology`);
  return hoverAt(analysis, file, at + 1)?.markdown ?? '';
};

describe('hover: load-balancer ipMode', () => {
  it("a Service whose load-balancer IP has ipMode Proxy: kube-proxy leaves it alone, a pod's packet leaves the node", () => {
    const md = hover('name: web\n');
    assert.match(md, /Service \*\*default\/web\*\*/);
    assert.match(
      md,
      /Load-balancer IP 192\.168\.56\.200 \(ipMode Proxy\)[^\n]*kube-proxy writes no rule[^\n]*leaves the node/,
    );
    assert.doesNotMatch(md, /ipMode VIP/);
  });

  it("a Service whose load-balancer IP has ipMode VIP: DNATed on the pod's own node", () => {
    const md = hover('name: web-vip');
    assert.match(md, /Load-balancer IP 192\.168\.56\.201 \(ipMode VIP\)[^\n]*DNATed on the pod's own node/);
    assert.doesNotMatch(md, /ipMode Proxy/);
  });

  it('explains the loadBalancerIPMode key with the LoadBalancer concept and its link', () => {
    const md = hover('loadBalancerIPMode');
    assert.match(md, /LoadBalancer[\s\S]*ipMode says how: VIP[\s\S]*Proxy/);
    assert.match(md, /kubernetes\.io/);
  });
});
