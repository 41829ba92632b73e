/**
 * The one validator of host <-> webview traffic: what a well-behaved side sends passes, and what a hostile page,
 * a corrupted persisted state or an older build could send is refused.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { traceFlow } from '../../../src/core';
import { buildTopology } from '../../../src/core/model/build';
import type { VerifyReportData } from '../../../src/protocol/verify';
import { isHostMessage, isVerifyReportData, isViewState, isWebviewMessage } from '../../../src/protocol/validate';

const report: VerifyReportData = {
  topology: 'two-node-lab',
  prefix: 'npv-1',
  agree: true,
  flows: [
    {
      from: 'pod/client',
      to: 'pod/web-2:8080',
      proto: 'tcp',
      agree: true,
      predicted: {
        src: '10.244.1.10',
        dst: '10.244.2.10',
        dport: 8080,
        outcomes: [
          {
            probability: 1,
            disposition: 'delivered',
            reason: null,
            answeredBy: 'default/web-2:8080',
            sourceSeen: '10.244.1.10',
            nat: [],
            devices: [{ netns: 'node:node1', device: 'cni0', dir: 'in', optional: true }],
          },
        ],
      },
      observed: { tries: 1, sourceAddress: '10.244.1.10', outcomes: [] },
      differences: [],
      devices: 'compared',
      ms: 12,
    },
  ],
  timings: { setupMs: 1, flowsMs: 2, teardownMs: 3 },
};

describe('protocol/validate', () => {
  it('accepts every webview message the views send, refuses the rest', () => {
    for (const m of [
      { type: 'ready' },
      { type: 'reveal', file: 'a.yaml', start: 1, end: 4 },
      { type: 'retrace', request: { from: 'pod/client', to: 'svc/web:http', proto: 'tcp', reply: true } },
      { type: 'export', format: 'svg', name: 'trace client.svg', content: '<svg/>' },
      { type: 'traceFrom', from: 'pod/default/client' },
    ])
      assert.ok(isWebviewMessage(m), JSON.stringify(m));
    for (const m of [
      null,
      'ready',
      { type: 'reveal', file: 'a.yaml', start: 1.5, end: 4 },
      { type: 'retrace', request: { from: 'pod/client', to: 'x', proto: 'gre' } },
      { type: 'retrace', request: { from: 'x'.repeat(501), to: 'x', proto: 'tcp' } },
      { type: 'export', format: 'svg', name: '../../etc/passwd', content: '' },
      { type: 'traceFrom' },
      { type: 'traceFrom', from: null },
      { type: 'run', command: 'rm' },
    ])
      assert.ok(!isWebviewMessage(m), JSON.stringify(m));
  });

  it('accepts persisted states of the three views, refuses a damaged one', () => {
    assert.ok(isViewState({ view: 'topology', file: 'file:///a.yaml' }));
    assert.ok(isViewState({ view: 'trace', file: 'f', request: { from: 'a', to: 'b', proto: 'udp' } }));
    assert.ok(isViewState({ view: 'verify', file: 'f', report }));
    assert.ok(!isViewState({ view: 'trace', file: 'f', request: { from: 'a', to: 'b' } }));
    assert.ok(!isViewState({ view: 'verify', file: 'f', report: { ...report, flows: [{ from: 'a' }] } }));
    assert.ok(!isViewState({ view: 'graph', file: 'f' }));
    assert.ok(!isViewState({ view: 'topology' }));
  });

  it('accepts a real trace in a host message and a verify report; refuses a step without its sentence', () => {
    const t = buildTopology([
      { path: 'lab.yaml', text: readFileSync('examples/two-node-lab/cluster.netpath.yaml', 'utf8') },
    ]).topology;
    const { result } = traceFlow(t, { from: 'pod/client', to: 'svc/web:http' });
    assert.ok(result);
    const request = { from: 'pod/client', to: 'svc/web:http', proto: 'tcp' };
    const data = { topology: 't', result, problems: [], places: [], sources: [], destinations: [] };
    const message = { type: 'trace', state: { view: 'trace', file: 'f', request }, data };
    assert.ok(isHostMessage(JSON.parse(JSON.stringify(message))));
    const hop = result.paths[0].hops[0];
    const bad = { ...result, paths: [{ ...result.paths[0], hops: [{ ...hop, steps: [{ kind: 'route' }] }] }] };
    assert.ok(!isHostMessage({ ...message, data: { ...data, result: bad } }));
    assert.ok(isHostMessage({ type: 'verify', state: { view: 'verify', file: 'f', report } }));
    assert.ok(isVerifyReportData(report));
    assert.ok(!isVerifyReportData({ ...report, timings: { setupMs: '1' } }));
  });

  it("accepts the kernel's NetworkPolicy verdicts on a flow, refuses a malformed one", () => {
    const verdict = { netns: 'node:node1', direction: 'ingress', pod: 'shop/api-1', verdict: 'denied', packets: 1 };
    const flow = { ...report.flows[0], policy: [verdict] };
    assert.ok(isVerifyReportData({ ...report, flows: [flow] }));
    for (const bad of [
      { ...verdict, direction: 'sideways' },
      { ...verdict, packets: '1' },
      { ...verdict, exempt: 'reply' },
      { ...verdict, ruleIndex: 'first' },
    ])
      assert.ok(!isVerifyReportData({ ...report, flows: [{ ...flow, policy: [bad] }] }), JSON.stringify(bad));
  });

  it('refuses what fuzzing found accepted though its shape is wrong (issue 17)', () => {
    // A webview message with a key its type does not declare did not come from a view.
    assert.ok(!isWebviewMessage({ type: 'ready', command: 'rm -rf' }));
    assert.ok(!isWebviewMessage(JSON.parse('{"type":"reveal","file":"a","start":1,"end":2,"__proto__":{"x":1}}')));
    assert.ok(!isWebviewMessage({ type: 'retrace', request: { from: 'a', to: 'b', proto: 'tcp', extra: 1 } }));
    assert.ok(!isWebviewMessage({ type: 'reachQuery', query: { from: '', to: '', port: '', constructor: 'x' } }));
    // null is no value of an optional field.
    assert.ok(!isWebviewMessage({ type: 'retrace', request: { from: 'a', to: 'b', proto: 'tcp', reply: null } }));
    assert.ok(!isViewState({ view: 'trace', file: 'f', request: { from: 'a', to: 'b', proto: 'tcp', reply: null } }));
    // A verify flow's device comparison is one of its four words; its notes are text.
    const flow = report.flows[0];
    for (const bad of [{ devices: 'maybe' }, { devices: 1 }, { devicesNote: 'lost' }, { devicesNote: [1] }])
      assert.ok(!isVerifyReportData({ ...report, flows: [{ ...flow, ...bad }] }), JSON.stringify(bad));
    assert.ok(isVerifyReportData({ ...report, flows: [{ ...flow, devices: 'not observed', devicesNote: ['x'] }] }));
  });

  it("refuses a trace whose flow, disposition or reason is not the tracer's", () => {
    const t = buildTopology([
      { path: 'lab.yaml', text: readFileSync('examples/two-node-lab/cluster.netpath.yaml', 'utf8') },
    ]).topology;
    const { result } = traceFlow(t, { from: 'pod/client', to: 'svc/web:http' });
    assert.ok(result);
    const request = { from: 'pod/client', to: 'svc/web:http', proto: 'tcp' };
    const data = { topology: 't', result, problems: [], places: [], sources: [], destinations: [] };
    const message = (r: unknown) => ({
      type: 'trace',
      state: { view: 'trace', file: 'f', request },
      data: { ...data, result: r },
    });
    assert.ok(isHostMessage(JSON.parse(JSON.stringify(message(result)))));
    const path0 = result.paths[0];
    for (const bad of [
      { ...result, flow: { ...result.flow, sport: '40000' } },
      { ...result, flow: { ...result.flow, proto: 'gre' } },
      { ...result, paths: [{ ...path0, disposition: 'teleported' }] },
      { ...result, paths: [{ ...path0, reason: 'toString' }] },
      { ...result, paths: [{ ...path0, reply: null }] },
    ])
      assert.ok(!isHostMessage(JSON.parse(JSON.stringify(message(bad)))), JSON.stringify(bad).slice(0, 200));
  });
});
