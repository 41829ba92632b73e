/**
 * A node's own rules are bounded (issue 17): at MAX_NODE_RULES every rule is read with no warning; one over, the
 * rules past the bound are left out (blanked, so every span of the rest stays put) with one warning at the first
 * rule left out, at its line in the YAML file.
 */
import assert from 'node:assert/strict';
import { buildTopology } from '../../../src/core/model/build';
import { MAX_NODE_RULES } from '../../../src/core/model/node-rules-bound';
import { LineIndex } from '../../../src/core/syntax/lines';

const HEAD = [
  'apiVersion: netpath.dev/v1alpha1',
  'kind: Topology',
  'networks: [{name: lan, cidr: 192.168.56.0/24}]',
  'nodes:',
  '  - name: node1',
  '    interfaces: [{name: eth0, network: lan, address: 192.168.56.11/24}]',
];

function iptablesNode(rules: number): string {
  const lines = [...HEAD, '    iptables: |', '      *filter', '      :INPUT ACCEPT [0:0]'];
  for (let i = 0; i < rules; i++)
    lines.push(`      -A INPUT -s 10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255} -j DROP`);
  lines.push('      COMMIT');
  return lines.join('\n') + '\n';
}

function nftNode(rules: number): string {
  const lines = [...HEAD, '    nftables: |', '      table inet host {', '        chain input {'];
  lines.push('          type filter hook input priority 0; policy accept;');
  for (let i = 0; i < rules; i++)
    lines.push(`          ip saddr 10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255} drop`);
  lines.push('        }', '      }');
  return lines.join('\n') + '\n';
}

const build = (text: string) => buildTopology([{ path: '/w/t.yaml', text }]);

describe('bounds: rules per node', function () {
  this.timeout(60000);

  for (const [dialect, make, field, pattern] of [
    ['iptables', iptablesNode, 'iptables', /^-A /],
    ['nftables', nftNode, 'nftables', /^ip saddr /],
  ] as const) {
    const count = (t: string) => t.split('\n').filter((l) => pattern.test(l.trim())).length;

    it(`${dialect}: ${MAX_NODE_RULES} rules are all read, with no warning`, () => {
      const b = build(make(MAX_NODE_RULES));
      assert.equal(count(b.topology.nodes[0][field]?.text ?? ''), MAX_NODE_RULES);
      assert.deepEqual(
        b.problems.filter((p) => p.code === 'node.too-many-rules'),
        [],
      );
    });

    it(`${dialect}: ${MAX_NODE_RULES + 1} rules: the last is left out, with a warning at its line`, () => {
      const text = make(MAX_NODE_RULES + 1);
      const b = build(text);
      const own = b.topology.nodes[0][field];
      assert.ok(own);
      assert.equal(count(own.text), MAX_NODE_RULES);
      // Blanked, not removed: the text keeps its length, so spans into it stay where they were.
      const unbounded = text
        .split('\n')
        .filter((l) => l.startsWith('      '))
        .map((l) => l.slice(6));
      assert.equal(own.text.length, `${unbounded.join('\n')}\n`.length);
      assert.ok(own.text.includes('10.0.195.79'), 'the last rule read is there');
      assert.ok(!own.text.includes('10.0.195.80'), 'the first rule past the bound is left out');
      const [w, ...more] = b.problems.filter((p) => p.code === 'node.too-many-rules');
      assert.equal(more.length, 0);
      assert.equal(w.severity, 'warning');
      assert.match(
        w.message,
        /^Node node1 has 50001 rules of its own in its (iptables|nftables) text: NetPath reads the first 50000; the 1 after them/,
      );
      assert.match(text.slice(w.span.start, w.span.end), /10\.0\.195\.80 (-j DROP|drop)$/);
      const lines = text.split('\n');
      const line = new LineIndex(text).positionAt(w.span.start).line;
      assert.match(lines[line], /10\.0\.195\.80/);
    });
  }
});
