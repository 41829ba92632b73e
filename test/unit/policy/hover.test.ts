import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { analyse, hoverAt } from '../../../src/core';

const FILE = path.resolve(__dirname, '../../fixtures/traces/policy-service-allowed/topology.yaml');
const TEXT = readFileSync(FILE, 'utf8');

describe('hover on a NetworkPolicy', () => {
  const analysis = analyse([{ path: '/c/topology.yaml', text: TEXT }]);
  it('on its name: the pods it selects, what it isolates, the peers each rule matches, and the concept with its link', () => {
    const hover = hoverAt(
      analysis,
      '/c/topology.yaml',
      TEXT.indexOf('api\n  namespace: shop\nspec', TEXT.indexOf('kind: NetworkPolicy')) + 1,
    )!.markdown;
    assert.match(hover, /Selects 1 pod of namespace `shop` \(app=api\): `shop\/api-1`/);
    assert.match(hover, /Isolates them for Ingress and Egress/);
    assert.match(hover, /ingress\[0\]: 2 pods; api\/TCP\./); // web-1 and web-2
    assert.match(hover, /egress\[0\]: 1 pod; pg\/TCP\./);
    assert.match(
      hover,
      /\[Kubernetes: Network Policies\]\(https:\/\/kubernetes\.io\/docs\/concepts\/services-networking\/network-policies\/\)/,
    );
  });

  it('says when policyTypes was defaulted, and counts cross-namespace AND peers', () => {
    const hover = hoverAt(analysis, '/c/topology.yaml', TEXT.indexOf('allow-scrape') + 1)!.markdown;
    assert.match(hover, /Selects 4 pods of namespace `shop` \(\{\} \(all\)\)/);
    assert.match(hover, /Isolates them for Ingress \(policyTypes not written: defaulted\)/);
    assert.match(hover, /ingress\[0\]: 1 pod; metrics\/TCP\./); // prometheus-0 in monitoring
  });
});
