/**
 * The walkthrough as package.json declares it: every command link is a URL VS Code can run (a literal space
 * in the encoded argument left the links as raw text), the bundled examples are the repository's, and the
 * example with mistakes is explained code by code, its preferred quick fixes applied in turn leaving exactly
 * the mistakes the explanation says to fix by hand.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { analyse, type Problem } from '../../src/core';

const ROOT = path.resolve(__dirname, '../..');
const manifest = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as {
  contributes: {
    commands: { command: string }[];
    walkthroughs: { steps: { id: string; description: string; media: { markdown: string } }[] }[];
  };
};
const steps = manifest.contributes.walkthroughs[0].steps;

/** Applies the first preferred fix of the first diagnostic that has one, until none has; returns the codes fixed. */
function applyAll(file: string, text: string): { text: string; fixed: string[]; left: Problem[] } {
  const fixed: string[] = [];
  for (let round = 0; round < 20; round++) {
    const diagnostics = analyse([{ path: file, text }]).diagnostics;
    const next = diagnostics.find((d) => d.fixes.some((f) => f.preferred));
    if (!next) return { text, fixed, left: [...diagnostics] };
    const fix = next.fixes.find((f) => f.preferred)!;
    for (const e of [...fix.edits].sort((a, b) => b.span.start - a.span.start))
      text = text.slice(0, e.span.start) + e.newText + text.slice(e.span.end);
    fixed.push(next.code);
  }
  assert.fail('the quick fixes do not settle');
}

describe('walkthrough', () => {
  it('every link is a command link with a JSON argument VS Code can parse, to a command the extension has', () => {
    const commands = new Set(manifest.contributes.commands.map((c) => c.command));
    let links = 0;
    for (const s of steps) {
      for (const m of s.description.matchAll(/\[([^\]]+)\]\(([^)]*)\)/g)) {
        links++;
        const url = m[2];
        assert.doesNotMatch(url, /\s/, `${s.id}: "${m[1]}" has whitespace in its link, so it renders as text`);
        const [, command, query] = /^command:([\w.]+)(?:\?(.*))?$/.exec(url) ?? [];
        assert.ok(command && commands.has(command), `${s.id}: ${url} runs no command of the extension`);
        if (query) JSON.parse(decodeURIComponent(query));
      }
    }
    assert.ok(links >= steps.length);
  });

  it('ships the examples unchanged', () => {
    for (const [bundled, example] of [
      ['two-node-lab.netpath.yaml', 'two-node-lab/cluster.netpath.yaml'],
      ['mistakes.netpath.yaml', 'mistakes/cluster.netpath.yaml'],
      ['cni-ptp.netpath.yaml', 'cni-ptp/cluster.netpath.yaml'],
      ['cni-flannel-vxlan.netpath.yaml', 'cni-flannel-vxlan/cluster.netpath.yaml'],
      ['cni-calico.netpath.yaml', 'cni-calico/cluster.netpath.yaml'],
      ['cni-calico-vxlan.netpath.yaml', 'cni-calico-vxlan/cluster.netpath.yaml'],
    ])
      assert.equal(
        fs.readFileSync(path.join(ROOT, 'media/walkthrough', bundled), 'utf8'),
        fs.readFileSync(path.join(ROOT, 'examples', example), 'utf8'),
        bundled,
      );
  });

  it('"Compare CNI plug-ins" traces the same request on each bundled plug-in example, and the comparison says what each trace shows', () => {
    const step = steps.find((s) => s.id === 'cni');
    assert.ok(step, 'a walkthrough step compares the CNI plug-ins');
    const kinds = [...step.description.matchAll(/walkthroughTrace\?([^)]*)\)/g)].map(
      (m) => (JSON.parse(decodeURIComponent(m[1])) as { kind: string }).kind,
    );
    assert.deepEqual(kinds, ['cni-ptp', 'cni-flannel-vxlan', 'cni-calico', 'cni-calico-vxlan']);
    const explained = fs.readFileSync(path.join(ROOT, step.media.markdown), 'utf8');
    // What each trace shows, named in the comparison: the gateway, the devices, the tunnel.
    for (const [kind, shows] of [
      ['cni-ptp', ['veth', 'scope host']],
      ['cni-flannel-vxlan', ['flannel.1', 'encap']],
      ['cni-calico', ['proxy ARP', '169.254.1.1']],
      ['cni-calico-vxlan', ['vxlan.calico', 'VNI 4096']],
    ] as const) {
      const file = path.join(ROOT, 'media/walkthrough', `${kind}.netpath.yaml`);
      const a = analyse([{ path: file, text: fs.readFileSync(file, 'utf8') }]);
      assert.deepEqual(
        a.diagnostics.filter((d) => d.severity === 'error').map((d) => d.code),
        [],
        kind,
      );
      for (const s of shows) assert.ok(explained.includes(s), `${kind}: the comparison does not mention ${s}`);
    }
  });

  it('explains every diagnostic of the example with mistakes; its quick fixes leave only the ones to fix by hand', () => {
    const file = path.join(ROOT, 'examples/mistakes/cluster.netpath.yaml');
    const text = fs.readFileSync(file, 'utf8');
    const codes = [...new Set(analyse([{ path: file, text }]).diagnostics.map((d) => d.code))].sort();
    assert.deepEqual(codes, [
      'bridge.hairpin-off',
      'cidr.overlap',
      'ip.outside-range',
      'nat.pod-to-pod',
      'route.missing',
      'service.no-endpoints',
    ]);
    const step = steps.find((s) => s.id === 'mistakes')!;
    const explained = fs.readFileSync(path.join(ROOT, step.media.markdown), 'utf8');
    for (const code of codes) assert.ok(explained.includes(`\`${code}\``), `${code} is not explained`);
    const after = applyAll(file, text);
    assert.deepEqual([...new Set(after.fixed)].sort(), ['bridge.hairpin-off', 'cidr.overlap']);
    assert.deepEqual([...new Set(after.left.map((d) => d.code))].sort(), [
      'nat.pod-to-pod',
      'route.missing',
      'service.no-endpoints',
    ]);
    // The fixes by hand, as the explanation gives them, leave nothing.
    const byHand = after.text
      .replace('! -d 10.244.1.0/24 -j MASQUERADE', '! -d 10.244.0.0/16 -j MASQUERADE')
      .replace(
        '    podCIDR: 10.244.2.0/24\n',
        '    podCIDR: 10.244.2.0/24\n    routes: [{to: 10.244.1.0/24, via: 192.168.56.11, dev: eth0}]\n',
      )
      .replace('selector: {app: api}', 'selector: {app: web}');
    assert.deepEqual(
      analyse([{ path: file, text: byHand }]).diagnostics.map((d) => `${d.code}: ${d.message}`),
      [],
    );
  });
});
