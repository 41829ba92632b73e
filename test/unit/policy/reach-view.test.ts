/**
 * The reachability matrix view's data (src/vscode/reach-data.ts): what the webview receives is the core's
 * matrix, cell for cell; dual-stack clusters get one cell string per family and a cell differs where an ipBlock
 * holds one family only; explanations name the deciding policies and rules with their spans; the exports are
 * the core's formatters over what the view shows; the plug-in choices come from `cluster.networkPolicy`.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import { analyse, hoverAt, type PolicyOptions } from '../../../src/core';
import { PolicyIndex, declaredPolicyOptions, policyChoices } from '../../../src/core/policy/evaluate';
import { reachIP } from '../../../src/core/policy/reach';
import type { ReachViewData } from '../../../src/protocol/messages';
import { cellAt, shownRowsAndColumns } from '../../../src/protocol/reach';
import { isHostMessage, isReachViewData, isWebviewMessage } from '../../../src/protocol/validate';
import { reachExplain, reachExport, reachView, type ReachOptions } from '../../../src/vscode/reach-data';
import { buildRows, sanitizeFilters } from '../../../src/webview/reach/model';
import { clusterArb } from './arbitrary';
import { policy } from './lab';

const ROOT = path.resolve(__dirname, '../../..');
const DEFAULTS: ReachOptions = {
  policy: { ipBlockPodIPs: 'match', nodeTraffic: 'allow' },
  source: { ipBlockPodIPs: 'default', nodeTraffic: 'default' },
};
const ALL = { from: '', to: '', port: '' };
const NO_FILTER = { fromNamespace: '', toNamespace: '', onlyBlocked: false };

function example(name: string) {
  const dir = path.join(ROOT, 'examples', name);
  return analyse(
    fs
      .readdirSync(dir)
      .filter((f) => f.endsWith('.yaml'))
      .map((f) => ({ path: `/work/${name}/${f}`, text: fs.readFileSync(path.join(dir, f), 'utf8') })),
  );
}

/** The view's cell between two pods, per family, found through the classes the view sends. */
function viewCell(d: ReachViewData, members: readonly (readonly string[])[], a: string, b: string, family: number) {
  const g = (pod: string) => members.findIndex((m) => m.includes(pod));
  const i = d.sources.indexOf(g(a));
  const j = d.destinations.indexOf(g(b));
  return cellAt(d, d.families[family].cells, i, j);
}

describe('reachability matrix view data', () => {
  it('examples/network-policies: one cell per class pair, every one the evaluator verdict, and a valid message', () => {
    const a = example('network-policies');
    const v = reachView(a, { ...ALL, port: 'TCP/8080' }, DEFAULTS);
    const d = v.data;
    assert.ok(isReachViewData(d));
    assert.ok(isHostMessage({ type: 'reach', state: { view: 'reach', file: 'file:///x', query: ALL }, data: d }));
    assert.equal(d.port, 'TCP/8080');
    assert.deepEqual(
      d.families.map((f) => f.family),
      ['IPv4'],
    );
    assert.equal(d.families[0].cells.length, d.sources.length * d.destinations.length);
    const index = new PolicyIndex(a.topology);
    const members = v.groups.map((g) => g.members.map((m) => m.id));
    const pods = a.topology.pods.filter((p) => !p.hostNetwork);
    let blocked = 0;
    for (const x of pods)
      for (const y of pods) {
        if (x === y) continue;
        const want = index.evaluate({ src: x.ips[0], dst: y.ips[0], proto: 'TCP', port: 8080 });
        const c = viewCell(d, members, x.id, y.id, 0);
        assert.equal(c === 'a', want.allowed, `${x.id} -> ${y.id}`);
        if (!want.allowed) {
          blocked++;
          assert.equal(c === 'e' || c === 'b', !want.egress.allowed, `${x.id} -> ${y.id}: egress`);
          assert.equal(c === 'i' || c === 'b', !want.ingress.allowed, `${x.id} -> ${y.id}: ingress`);
        }
      }
    assert.ok(blocked > 0, 'the example blocks something on 8080');
  });

  it('opens on the port most destinations declare, and says why when a port or a selector is wrong', () => {
    const a = example('network-policies');
    const d = reachView(a, ALL, DEFAULTS).data;
    // Every pod of the example declares its metrics port; the matrix opens there.
    const declaring = (port: number) =>
      a.topology.pods.filter((p) => p.containers.some((c) => c.ports.some((x) => x.containerPort === port))).length;
    assert.equal(d.port, 'TCP/9090');
    assert.ok(declaring(9090) > declaring(8080));
    assert.ok(d.ports.includes('UDP/53'));
    const bad = reachView(a, { from: 'app in (web', to: '', port: 'tcp/x' }, DEFAULTS).data;
    assert.equal(bad.port, null);
    assert.equal(bad.families.length, 0);
    assert.match(bad.problems.join('\n'), /From: /);
    assert.match(bad.problems.join('\n'), /Port 'tcp\/x' is not a port/);
    assert.ok(isReachViewData(bad));
  });

  it('selectors narrow the sides as netpath reach --from/--to do', () => {
    const a = example('network-policies');
    const d = reachView(a, { from: 'ns/shop', to: 'shop:app=db', port: 'TCP/5432' }, DEFAULTS).data;
    assert.ok(d.sources.every((s) => d.groups[s].namespace === 'shop'));
    assert.deepEqual(
      d.destinations.map((t) => d.groups[t].pods),
      [['shop/db-0']],
    );
  });

  it('explains a blocked cell by the isolating policies (with spans) and an allowed one by its rules', () => {
    const a = example('network-policies');
    const v = reachView(a, { ...ALL, port: 'TCP/5432' }, DEFAULTS);
    const d = v.data;
    const g = (pod: string) => v.groups.findIndex((x) => x.members.some((m) => m.id === pod));
    const blocked = reachExplain(v, g('shop/web-1'), g('shop/db-0'), 'IPv4');
    const allowed = reachExplain(v, g('shop/api-1'), g('shop/db-0'), 'IPv4');
    assert.ok(blocked && allowed);
    const text = fs.readFileSync(path.join(ROOT, 'examples/network-policies/policies.yaml'), 'utf8');
    const at = (s: { file: string; start: number; end: number }) => {
      assert.equal(s.file, '/work/network-policies/policies.yaml');
      return text.slice(s.start, s.end);
    };
    assert.equal(blocked.allowed, false);
    const blockingSide = blocked.ingress.allowed ? blocked.egress : blocked.ingress;
    assert.ok(blockingSide.policies.length > 0);
    for (const p of blockingSide.policies) assert.equal(at(p.span), p.id.split('/')[1]);
    assert.equal(allowed.allowed, true);
    assert.ok(allowed.ingress.allowedBy.some((r) => r.policy === 'shop/db'));
    for (const r of allowed.ingress.allowedBy) assert.match(at(r.span), /5432|from/);
    assert.deepEqual(allowed.trace, { from: 'pod/shop/api-1', to: 'pod/shop/db-0:5432', proto: 'tcp' });
    assert.ok(isHostMessage({ type: 'reachExplain', explain: allowed }));
    assert.equal(d.families.length, 1);
  });

  it('a class to itself is judged between two of its pods, not a pod and itself', () => {
    const a = example('network-policies');
    const v = reachView(a, { ...ALL, port: 'TCP/8080' }, DEFAULTS);
    const web = v.groups.findIndex((x) => x.members.length === 2);
    const x = reachExplain(v, web, web, 'IPv4');
    assert.ok(x);
    assert.notEqual(x.source, x.destination);
  });

  it('exports what the view shows: the namespaces it keeps and, with only blocked, no all-allowed row', () => {
    const a = example('network-policies');
    const v = reachView(a, { ...ALL, port: 'TCP/8080' }, DEFAULTS);
    const filter = { fromNamespace: 'shop', toNamespace: '', onlyBlocked: true };
    const shown = shownRowsAndColumns(v.data, filter);
    const csv = reachExport(v, 'csv', filter).trim().split('\n');
    assert.equal(csv.length - 1, shown.rows.length * shown.columns.length);
    assert.ok(csv.slice(1).every((l) => l.startsWith('"shop"')));
    const md = reachExport(v, 'markdown', filter);
    assert.match(md, /^# NetworkPolicy reachability/);
    assert.match(md, /## TCP\/8080/);
    for (const i of shown.rows) assert.ok(v.data.families[0].cells.slice(i * v.data.destinations.length).length);
    const all = reachExport(v, 'csv', NO_FILTER).trim().split('\n');
    assert.equal(all.length - 1, v.data.sources.length * v.data.destinations.length);
  });

  it('the view agrees with the evaluator on every pod pair of random clusters', () => {
    fc.assert(
      fc.property(clusterArb, fc.constantFrom(53, 80, 8080), (t, port) => {
        const a = { topology: t } as unknown as Parameters<typeof reachView>[0];
        const v = reachView(a, { ...ALL, port: `TCP/${port}` }, DEFAULTS);
        const index = new PolicyIndex(t);
        const members = v.groups.map((g) => g.members.map((m) => m.id));
        const pods = t.pods.filter((p) => !p.hostNetwork && members.some((m) => m.includes(p.id)));
        for (const x of pods)
          for (const y of pods) {
            if (x === y) continue;
            const want = index.evaluate({ src: x.ips[0], dst: y.ips[0], proto: 'TCP', port }).allowed;
            assert.equal(viewCell(v.data, members, x.id, y.id, 0) === 'a', want, `${x.id} -> ${y.id}`);
          }
      }),
      { numRuns: 60 },
    );
  });
});

/** Two dual-stack pods in namespaces a and b; b admits a's IPv4 range only (an ipBlock is of one family). */
const DUAL = `apiVersion: netpath.dev/v1alpha1
kind: Topology
metadata: {name: dual}
cluster: {podCIDRs: [10.244.0.0/16, "fd00:10:244::/56"], serviceCIDRs: [10.96.0.0/16, "fd00:10:96::/112"]}
networks: [{name: lan, cidr: 192.168.56.0/24}, {name: lan6, cidr: "fd00:56::/64"}]
nodes:
  - name: node1
    interfaces: [{name: eth0, network: lan, address: 192.168.56.11/24}, {name: eth1, network: lan6, address: "fd00:56::11/64"}]
    podCIDRs: [10.244.1.0/24, "fd00:10:244:1::/64"]
pods:
  - {name: client, namespace: a, node: node1, ips: [10.244.1.10, "fd00:10:244:1::a"], labels: {app: client}}
  - {name: other, namespace: a, node: node1, ips: [10.244.1.11, "fd00:10:244:1::b"], labels: {app: other}}
  - name: web
    namespace: b
    node: node1
    ips: [10.244.1.20, "fd00:10:244:1::14"]
    labels: {app: web}
    containers: [{name: app, ports: [{containerPort: 8080}]}]
  - {name: v4only, namespace: a, node: node1, ips: [10.244.1.30], labels: {app: legacy}}
${policy('b', 'from-client-v4', 'podSelector: {}\ningress:\n  - from: [{ipBlock: {cidr: 10.244.1.10/32}}]')}`;

describe('reachability matrix view: dual-stack pods', () => {
  it('one cell string per family; a cell differs where the ipBlock holds one family only', () => {
    const a = analyse([{ path: '/dual.yaml', text: DUAL }]);
    assert.deepEqual(
      a.problems.filter((p) => p.severity === 'error').map((p) => p.message),
      [],
    );
    const v = reachView(a, { ...ALL, port: 'TCP/8080' }, DEFAULTS);
    const d = v.data;
    assert.ok(isReachViewData(d));
    assert.deepEqual(
      d.families.map((f) => f.family),
      ['IPv4', 'IPv6'],
    );
    const members = v.groups.map((g) => g.members.map((m) => m.id));
    // client's IPv4 address is in the block, its IPv6 address is not: allowed over IPv4 only.
    assert.equal(viewCell(d, members, 'a/client', 'b/web', 0), 'a');
    assert.equal(viewCell(d, members, 'a/client', 'b/web', 1), 'i');
    // other is in neither family's block; v4only has no IPv6 address, so no IPv6 cell.
    assert.equal(viewCell(d, members, 'a/other', 'b/web', 0), 'i');
    assert.equal(viewCell(d, members, 'a/other', 'b/web', 1), 'i');
    assert.equal(viewCell(d, members, 'a/v4only', 'b/web', 0), 'i');
    assert.equal(viewCell(d, members, 'a/v4only', 'b/web', 1), 'n');
    // Every IP of every pod, both families: the explanation judges the family's addresses.
    const g = (pod: string) => members.findIndex((m) => m.includes(pod));
    const x6 = reachExplain(v, g('a/client'), g('b/web'), 'IPv6');
    assert.ok(x6);
    assert.equal(x6.sourceIP, 'fd00:10:244:1::a');
    assert.equal(x6.allowed, false);
    assert.deepEqual(x6.trace, { from: 'fd00:10:244:1::a', to: '[fd00:10:244:1::14]:8080', proto: 'tcp' });
    // The CSV of a dual-stack matrix says the family of each row.
    const csv = reachExport(v, 'csv', NO_FILTER).trim().split('\n');
    assert.match(csv[0], /,family$/);
    assert.ok(csv.some((l) => l.endsWith(',IPv6')) && csv.some((l) => l.endsWith(',IPv4')));
    assert.ok(!csv.slice(1).some((l) => l.startsWith('"a","app=legacy"') && l.endsWith(',IPv6')));
  });

  it('reachIP picks the address of the family', () => {
    const a = analyse([{ path: '/dual.yaml', text: DUAL }]);
    const client = a.topology.pods.find((p) => p.name === 'client')!;
    assert.equal(reachIP(client, 4), '10.244.1.10');
    assert.equal(reachIP(client, 6), 'fd00:10:244:1::a');
    assert.equal(reachIP(client, undefined), '10.244.1.10');
  });
});

describe('plug-in choices as a topology key (cluster.networkPolicy)', () => {
  const withKey = (key: string) =>
    analyse([
      {
        path: '/t.yaml',
        text: `apiVersion: netpath.dev/v1alpha1\nkind: Topology\nmetadata: {name: t}\ncluster: {podCIDRs: [10.244.0.0/16], networkPolicy: ${key}}\n`,
      },
    ]);

  // | key written | options in effect | problems |
  const ROWS: [string, Record<string, string>, RegExp | null][] = [
    ['{ipBlockPodIPs: ignore}', { ipBlockPodIPs: 'ignore' }, null],
    ['{nodeTraffic: policy}', { nodeTraffic: 'policy' }, null],
    ['{ipBlockPodIPs: match, nodeTraffic: allow}', { ipBlockPodIPs: 'match', nodeTraffic: 'allow' }, null],
    ['{}', {}, null],
    ['{ipBlockPodIPs: never}', {}, /ipBlockPodIPs must be one of 'match', 'ignore'/],
    ['{nodetraffic: allow}', {}, /nodetraffic/],
  ];
  for (const [key, want, problem] of ROWS)
    it(`networkPolicy: ${key}`, () => {
      const a = withKey(key);
      assert.deepEqual(declaredPolicyOptions(a.topology), want);
      const messages = a.problems.map((p) => p.message).join('\n');
      if (problem) assert.match(messages, problem);
      else assert.doesNotMatch(messages, /networkPolicy|ipBlockPodIPs|nodeTraffic/);
      // The index applies them unless the caller overrides them.
      const index = new PolicyIndex(a.topology);
      assert.equal(index.options.ipBlockPodIPs, want.ipBlockPodIPs ?? 'match');
      assert.equal(index.options.nodeTraffic, want.nodeTraffic ?? 'allow');
      assert.equal(new PolicyIndex(a.topology, { ipBlockPodIPs: 'match' }).options.ipBlockPodIPs, 'match');
    });

  // | topology key | editor setting | in effect | from |
  const PRECEDENCE: [string, Partial<PolicyOptions>, string, string][] = [
    ['{}', {}, 'match', 'default'],
    ['{}', { ipBlockPodIPs: 'ignore' }, 'ignore', 'setting'],
    ['{ipBlockPodIPs: match}', { ipBlockPodIPs: 'ignore' }, 'match', 'topology'],
    ['{ipBlockPodIPs: ignore}', {}, 'ignore', 'topology'],
  ];
  for (const [key, setting, want, from] of PRECEDENCE)
    it(`networkPolicy: ${key} with the setting ${JSON.stringify(setting)}: ${want} (${from})`, () => {
      const a = analyse(
        [
          {
            path: '/t.yaml',
            text: `apiVersion: netpath.dev/v1alpha1\nkind: Topology\nmetadata: {name: t}\ncluster: {podCIDRs: [10.244.0.0/16], networkPolicy: ${key}}\n`,
          },
        ],
        { policySettings: setting },
      );
      const c = policyChoices(a.topology);
      assert.equal(c.options.ipBlockPodIPs, want);
      assert.equal(c.source.ipBlockPodIPs, from);
      assert.equal(c.source.nodeTraffic, 'default');
      assert.equal(new PolicyIndex(a.topology).options.ipBlockPodIPs, want);
    });

  it('the ipBlock diagnostic and the policy hover say which choice is in effect and where it comes from', () => {
    const text = `apiVersion: netpath.dev/v1alpha1\nkind: Topology\nmetadata: {name: t}\ncluster: {podCIDRs: [10.244.0.0/16], networkPolicy: {ipBlockPodIPs: ignore}}\nnodes: [{name: n1, podCIDR: 10.244.1.0/24}]\npods: [{name: a, node: n1, ip: 10.244.1.10}]\n${policy('default', 'p', 'podSelector: {}\ningress: [{from: [{ipBlock: {cidr: 10.244.0.0/16}}]}]')}`;
    const a = analyse([{ path: '/t.yaml', text }]);
    const d = a.diagnostics.find((x) => x.code === 'policy.ipblock-cluster-range');
    assert.ok(d);
    assert.match(
      d.message,
      /In effect here: ipBlockPodIPs: ignore, an ipBlock matches no pod \(cluster\.networkPolicy\)/,
    );
    const hover = hoverAt(a, '/t.yaml', text.indexOf('name: p,') + 7)!.markdown;
    assert.match(
      hover,
      /Plug-in choices in effect: ipBlockPodIPs: ignore, an ipBlock matches no pod \(cluster\.networkPolicy\); nodeTraffic: allow, a pod and its own node always reach each other \(NetPath's default\)/,
    );
    const viaSetting = analyse(
      [{ path: '/t.yaml', text: text.replace(', networkPolicy: {ipBlockPodIPs: ignore}', '') }],
      {
        policySettings: { ipBlockPodIPs: 'ignore' },
      },
    );
    assert.match(
      viaSetting.diagnostics.find((x) => x.code === 'policy.ipblock-cluster-range')!.message,
      /ipBlockPodIPs: ignore, an ipBlock matches no pod \(the netpath\.networkPolicy setting\)/,
    );
  });

  it('a topology that ignores ipBlocks for pods changes the matrix', () => {
    const text = (choice: string) =>
      `apiVersion: netpath.dev/v1alpha1\nkind: Topology\nmetadata: {name: t}\ncluster: {podCIDRs: [10.244.0.0/16], networkPolicy: {ipBlockPodIPs: ${choice}}}\nnodes: [{name: n1, podCIDR: 10.244.1.0/24}]\npods:\n  - {name: a, node: n1, ip: 10.244.1.10}\n  - {name: b, node: n1, ip: 10.244.1.11, containers: [{name: c, ports: [{containerPort: 80}]}]}\n${policy('default', 'p', 'podSelector: {}\ningress: [{from: [{ipBlock: {cidr: 10.244.0.0/16}}]}]')}`;
    const cell = (choice: string) => {
      const a = analyse([{ path: '/t.yaml', text: text(choice) }]);
      // As the editor passes them (src/vscode/policy-options.ts): the topology's choices over the defaults.
      const options: ReachOptions = {
        policy: { ...DEFAULTS.policy, ...declaredPolicyOptions(a.topology) },
        source: { ipBlockPodIPs: 'topology', nodeTraffic: 'default' },
      };
      const v = reachView(a, { ...ALL, port: 'TCP/80' }, options);
      const members = v.groups.map((g) => g.members.map((m) => m.id));
      return viewCell(v.data, members, 'default/a', 'default/b', 0);
    };
    assert.equal(cell('match'), 'a');
    assert.equal(cell('ignore'), 'i');
  });
});

describe('reachability view messages and rows', () => {
  it('refuses cells that do not fit the classes, and indexes out of range', () => {
    const a = example('network-policies');
    const d = reachView(a, { ...ALL, port: 'TCP/8080' }, DEFAULTS).data;
    assert.ok(isReachViewData(d));
    assert.ok(!isReachViewData({ ...d, families: [{ family: 'IPv4', cells: d.families[0].cells.slice(1) }] }));
    assert.ok(!isReachViewData({ ...d, families: [{ family: 'IPv4', cells: d.families[0].cells.replace('a', 'x') }] }));
    assert.ok(!isReachViewData({ ...d, sources: [...d.sources.slice(1), 999] }));
    assert.ok(!isReachViewData({ ...d, families: [{ family: 'IPv5', cells: d.families[0].cells }] }));
  });

  it('accepts the view messages of the protocol and nothing else', () => {
    assert.ok(isWebviewMessage({ type: 'reachQuery', query: { from: 'ns/a', to: '', port: 'TCP/80' } }));
    assert.ok(!isWebviewMessage({ type: 'reachQuery', query: { from: 'x'.repeat(2000), to: '', port: '' } }));
    assert.ok(isWebviewMessage({ type: 'explainCell', from: 0, to: 3, family: 'IPv6' }));
    assert.ok(!isWebviewMessage({ type: 'explainCell', from: -1, to: 3, family: 'IPv4' }));
    assert.ok(!isWebviewMessage({ type: 'explainCell', from: 0.5, to: 3, family: 'IPv4' }));
    assert.ok(
      isWebviewMessage({ type: 'exportReach', format: 'csv', fromNamespace: '', toNamespace: 'b', onlyBlocked: true }),
    );
    assert.ok(
      !isWebviewMessage({ type: 'exportReach', format: 'svg', fromNamespace: '', toNamespace: '', onlyBlocked: true }),
    );
  });

  it('rows by namespace open into their classes; restored filters keep only well-formed fields', () => {
    const a = example('network-policies');
    const d = reachView(a, { ...ALL, port: 'TCP/8080' }, DEFAULTS).data;
    const positions = d.sources.map((_, i) => i);
    const f = { ...NO_FILTER, rows: 'namespaces' as const, open: ['shop'] };
    const rows = buildRows(d, positions, f);
    const ns = rows.filter((r) => r.kind === 'namespace').map((r) => r.label);
    assert.deepEqual(ns, [...new Set(d.groups.map((g) => g.namespace))].sort());
    const shopClasses = d.sources.filter((s) => d.groups[s].namespace === 'shop').length;
    assert.equal(rows.filter((r) => r.kind === 'group').length, shopClasses);
    assert.deepEqual(sanitizeFilters({ rows: 'x', open: ['a', 1], onlyBlocked: 'yes', fromNamespace: 'b' }), {
      open: ['a'],
      fromNamespace: 'b',
    });
    assert.deepEqual(sanitizeFilters(null), {});
  });
});
