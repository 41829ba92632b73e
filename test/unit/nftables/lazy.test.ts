/**
 * A table whose chains are parsed when read (src/core/nftables/lazy.ts) must be, chain for chain, what parsing the
 * whole text gives: the same rules, spans, base chains and sets, and the same problems. It must also parse only what
 * is read.
 */
import assert from 'node:assert/strict';
import { analyse } from '../../../src/core';
import { clusterFamilies, kubeProxyInput } from '../../../src/core/dataplane/kube-proxy';
import { generateKubeProxyNftables, layOutNftRuleset } from '../../../src/core/kubeproxy';
import {
  lazyNftTable,
  LazyNftChains,
  NFT_UNKNOWN_CHAIN,
  NFT_UNKNOWN_SET,
  parseNftRuleset,
  type NftTable,
} from '../../../src/core/nftables';
import type { Problem } from '../../../src/core/problem';
import { takeWork } from '../../../src/core/work';
import { netpathNftablesCluster } from '../../../bench/cluster';

/** The bench's nftables-mode cluster, one Service with ClientIP affinity and one with a Local traffic policy. */
function clusterText(): string {
  const text = netpathNftablesCluster({ name: 'lazy', nodes: 4, pods: 16, services: 4 });
  const svc1 = '  - name: svc1\n    clusterIP: 10.96.0.11\n';
  const svc2 = '  - name: svc2\n    clusterIP: 10.96.0.12\n';
  assert.ok(text.includes(svc1) && text.includes(svc2), 'the bench writes the Services this test edits');
  return text
    .replace(svc1, `${svc1}    sessionAffinity: ClientIP\n`)
    .replace(svc2, `  - name: svc2\n    type: NodePort\n    externalTrafficPolicy: Local\n    clusterIP: 10.96.0.12\n`);
}

/** kube-proxy's tables on each node of the cluster, rendered with where each block is. */
function renderedTables(): { readonly node: string; readonly text: string; readonly tables: NftTable[] }[] {
  const a = analyse([{ path: 'lazy.netpath.yaml', text: clusterText() }]);
  assert.deepEqual(
    a.diagnostics.filter((d) => d.severity === 'error').map((d) => d.code),
    [],
    'the edited cluster is clean',
  );
  const t = a.topology;
  return t.nodes.map((node) => {
    let text = '';
    const tables: NftTable[] = [];
    for (const family of clusterFamilies(t)) {
      const out = layOutNftRuleset(
        generateKubeProxyNftables({ ...kubeProxyInput(t, node, family), serviceCIDRs: t.cluster.serviceCIDRs }),
      );
      const start = text.length;
      text += out.text;
      const problems: Problem[] = [];
      const blocks = out.blocks.map((b) => ({ ...b, start: start + b.start, end: start + b.end }));
      const table = lazyNftTable(text, 'rules', start, blocks, problems);
      assert.ok(table, `node ${node.name}: the laid-out table is read lazily`);
      assert.deepEqual(problems, [], `node ${node.name}: the table's header and sets parse cleanly`);
      tables.push(table);
    }
    return { node: node.name, text, tables };
  });
}

describe('nftables: a table parsed chain by chain when read', () => {
  it('equals the whole parse, chain for chain, with the same spans, sets and base chains', () => {
    for (const { node, text, tables } of renderedTables()) {
      const whole = parseNftRuleset(text, 'rules');
      assert.deepEqual(whole.problems, [], `node ${node}: kube-proxy's text parses cleanly`);
      assert.equal(tables.length, whole.ruleset.tables.length);
      tables.forEach((lazy, k) => {
        const eager = whole.ruleset.tables[k];
        assert.equal(lazy.family, eager.family);
        assert.equal(lazy.name, eager.name);
        assert.deepEqual(lazy.span, eager.span);
        assert.deepEqual([...lazy.sets.entries()], [...eager.sets.entries()], `node ${node}: the sets`);
        assert.ok(lazy.chains instanceof LazyNftChains);
        assert.deepEqual(
          lazy.chains.baseChains(),
          [...eager.chains.values()].filter((c) => c.base),
          `node ${node}: the base chains, in order`,
        );
        assert.equal(lazy.chains.size, eager.chains.size);
        assert.deepEqual([...lazy.chains.keys()], [...eager.chains.keys()], `node ${node}: the chains, in order`);
        for (const [name, chain] of eager.chains) assert.deepEqual(lazy.chains.get(name), chain, `${node}: ${name}`);
      });
    }
  });

  it('parses only the chains that are read', () => {
    const t = analyse([{ path: 'lazy.netpath.yaml', text: clusterText() }]).topology;
    const node = t.nodes[0];
    assert.ok(node);
    const laidOut = layOutNftRuleset(
      generateKubeProxyNftables({ ...kubeProxyInput(t, node, 4), serviceCIDRs: t.cluster.serviceCIDRs }),
    );
    const whole = parseNftRuleset(laidOut.text, 'rules').ruleset.tables[0];
    takeWork();
    const lazy = lazyNftTable(laidOut.text, 'rules', 0, laidOut.blocks);
    assert.ok(lazy);
    const services = whole.chains.get('services');
    assert.ok(services && services.rules.length > 0, "kube-proxy's services chain has rules");
    assert.equal(takeWork().ruleObjects, 0, 'making the table parses no chain');
    assert.deepEqual(lazy.chains.get('services'), services);
    assert.equal(takeWork().ruleObjects, services.rules.length, 'reading one chain parses its rules alone');
    lazy.chains.get('services');
    assert.equal(takeWork().ruleObjects, 0, 'a chain read again is not parsed again');
    assert.ok(whole.chains.size > 10, 'the table has many more chains than the one read');
  });

  it('reports a jump to a chain, or a lookup in a set, that the table does not have, and nothing for those it has', () => {
    const text = [
      'table ip t {',
      '\tset known {',
      '\t\ttype ipv4_addr',
      '\t}',
      '',
      '\tchain a {',
      '\t\tip daddr @known jump b',
      '\t\tip saddr @missing jump c',
      '\t}',
      '',
      '\tchain b {',
      '\t\taccept',
      '\t}',
      '}',
      '',
    ].join('\n');
    const at = (line: string): { start: number; end: number } => {
      const start = text.indexOf(line);
      return { start, end: text.indexOf('\t}', start) + 2 };
    };
    const problems: Problem[] = [];
    const table = lazyNftTable(
      text,
      'f',
      0,
      [
        { kind: 'set', name: 'known', base: false, ...at('\tset known {') },
        { kind: 'chain', name: 'a', base: false, ...at('\tchain a {') },
        { kind: 'chain', name: 'b', base: false, ...at('\tchain b {') },
      ],
      problems,
    );
    assert.ok(table);
    assert.equal(problems.length, 0, 'nothing is reported before a chain is read');
    table.chains.get('a');
    assert.deepEqual(
      problems.map((p) => [p.code, text.slice(p.span.start, p.span.end)]),
      parseNftRuleset(text, 'f').problems.map((p) => [p.code, text.slice(p.span.start, p.span.end)]),
      'the same problems as the whole parse',
    );
    assert.deepEqual(problems.map((p) => p.code).sort(), [NFT_UNKNOWN_CHAIN, NFT_UNKNOWN_SET].sort());
  });
});
