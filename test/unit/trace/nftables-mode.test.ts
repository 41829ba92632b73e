/**
 * Every golden trace scenario again with kube-proxy in nftables mode: the node's filter is then kube-proxy's
 * nftables table (evaluated by src/core/nftables) plus the other authors' iptables rules, and the trace must end the
 * same way (dispositions, probabilities, the source the destination sees), its netfilter steps naming nft's tables.
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { compileDataPlane } from '../../../src/core/dataplane';
import { buildTopology } from '../../../src/core/model/build';
import type { Topology } from '../../../src/core/model/types';
import { traceFlow, type TraceRequest } from '../../../src/core/trace';

const ROOT = 'test/fixtures/traces';

describe('trace/golden in kube-proxy nftables mode', () => {
  const cases = readdirSync(ROOT)
    .filter((d) => existsSync(path.join(ROOT, d, 'request.json')))
    .sort();
  for (const name of cases) {
    it(name, () => {
      const dir = path.join(ROOT, name);
      const text = readFileSync(path.join(dir, 'topology.yaml'), 'utf8');
      const request = JSON.parse(readFileSync(path.join(dir, 'request.json'), 'utf8')) as TraceRequest & {
        expect: { dispositions: string[]; probabilities?: number[]; sourceSeen?: string[] };
      };
      const built = buildTopology([{ path: 'topology.yaml', text }]).topology;
      const t: Topology = {
        ...built,
        cluster: { ...built.cluster, kubeProxy: { ...built.cluster.kubeProxy, mode: 'nftables' } },
      };
      const dp = compileDataPlane(t, { files: new Map([['topology.yaml', text]]) });
      const { expect: e, ...req } = request;
      const r = traceFlow(t, req, dp).result;
      assert.ok(r);
      assert.deepEqual(
        r.paths.map((p) => p.disposition),
        e.dispositions,
      );
      if (e.probabilities)
        assert.deepEqual(
          r.paths.map((p) => p.probability),
          e.probabilities,
        );
      if (e.sourceSeen)
        assert.deepEqual(
          r.paths.map((p) => p.sourceSeen),
          e.sourceSeen,
        );
      const json = JSON.stringify(r);
      assert.doesNotMatch(json, /KUBE-(SVC|SEP|SERVICES|NODEPORTS)/, 'no iptables-mode kube-proxy chain is evaluated');
      // (Unless a netdev ingress chain of the node's own dropped it before any IP hook.)
      if (t.services.length && /svc\/|:3\d{4}|10\.96\./.test(`${req.to}`) && !json.includes('"table":"netdev '))
        assert.match(json, /"table":"ip6? kube-proxy"/, 'the steps name the nft table');
    });
  }
});
