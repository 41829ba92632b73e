/** YAML bounds: aliases are never expanded (billion laughs), deep nesting is cut with a warning, never a crash. */
import assert from 'node:assert/strict';
import { analyse } from '../../../src/core';

const codes = (text: string) => analyse([{ path: '/y.yaml', text }]).diagnostics.map((d) => d.code);

describe('YAML bounds', () => {
  it('billion laughs: aliases are not followed, each is a yaml.alias warning (at most 20)', () => {
    const lines = ['apiVersion: v1', 'kind: ConfigMap', 'metadata: {name: lol}', 'data:', '  a0: &a0 [lol, lol, lol]'];
    for (let i = 1; i < 30; i++) lines.push(`  a${i}: &a${i} [*a${i - 1}, *a${i - 1}, *a${i - 1}, *a${i - 1}]`);
    const found = codes(lines.join('\n') + '\n');
    assert.equal(found.filter((c) => c === 'yaml.alias').length, 20);
  });

  it('an alias where NetPath needs a value is read as empty and said', () => {
    const text =
      'apiVersion: netpath.dev/v1alpha1\nkind: Topology\ncluster:\n  podCIDRs: &p [10.244.0.0/16]\n  serviceCIDRs: *p\n';
    assert.ok(codes(text).includes('yaml.alias'));
  });

  for (const [what, open, close] of [
    ['flow', '[', ']'],
    ['block maps', '', ''],
  ] as const) {
    it(`nesting 5,000 deep (${what}): yaml.too-deep or yaml.syntax, never a crash`, () => {
      const text =
        what === 'flow'
          ? `apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec: ${open.repeat(5000)}${close.repeat(5000)}\n`
          : `apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n${Array.from({ length: 300 }, (_, i) => `${' '.repeat(i + 1)}k${i}:`).join('\n')} x\n`;
      const found = codes(text);
      assert.ok(found.includes('yaml.too-deep'), found.join(', '));
    });
  }
});
