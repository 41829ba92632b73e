import assert from 'node:assert/strict';
import { analyse, compileDataPlane, lintFiles, nodeRulesText, traceFlow } from '../../../src/core';
import { takeWork } from '../../../src/core/work';
import { netpathCluster, type ClusterSize } from '../../../bench/cluster';

/**
 * kube-proxy's per-Service lines in the chains every packet crosses (KUBE-SERVICES, KUBE-NODEPORTS and the filter
 * table's dispatch chains) are kept by a skim as their words and lengths: a lint whose probes go from pod to pod
 * writes none of them out, a trace entering a Service writes the lines it reaches, and the rules text all of them.
 * Counted, never timed.
 */

/** Service ports enough for KUBE-SERVICES to be looked up through its index (24 lines and more). */
const SIZE: ClusterSize = { name: 'deferred', nodes: 8, pods: 240, services: 48 };
const files = (): { path: string; text: string }[] => [{ path: 'c.netpath.yaml', text: netpathCluster(SIZE) }];

describe("kube-proxy's per-Service dispatch lines are written out only when read", () => {
  it('a lint of a cluster whose probes enter no Service writes none', () => {
    takeWork();
    const { diagnostics } = lintFiles(files());
    assert.deepEqual(diagnostics, [], 'the synthetic cluster is clean');
    const done = takeWork();
    assert.ok(done.probes > 0, 'the rules ran their probes');
    assert.ok(done.rulesEvaluated > 0, "the probes met the nodes' rules");
    assert.equal(done.serviceLinesWritten, 0);
  });

  it('a trace entering a Service writes its lines, placed where the rules text has them', () => {
    const a = analyse(files());
    assert.deepEqual(a.diagnostics, []);
    assert.equal(takeWork().serviceLinesWritten, 0, 'the analysis wrote none');
    const t = a.topology;
    const out = traceFlow(t, { from: `pod/${t.pods[0].id}`, to: 'svc/svc1:http' }, compileDataPlane(t));
    const paths = out.result?.paths ?? [];
    assert.ok(paths.length && paths.every((p) => p.disposition === 'delivered'));
    const written = takeWork().serviceLinesWritten;
    // The Service's dispatch line and its own chains (written again to be read), not every Service's.
    assert.ok(written > 0, 'the lines the trace reached were written');
    assert.ok(written < SIZE.services, `${written} lines written for one Service of ${SIZE.services}`);
    // The decision of the deferred KUBE-SERVICES line points at that line in the node's rules text.
    const steps = paths[0].hops.flatMap((h) => h.steps);
    const step = steps.find(
      (s) => s.kind === 'netfilter' && s.chain === 'KUBE-SERVICES' && s.target?.startsWith('KUBE-SVC-'),
    );
    assert.ok(
      step?.kind === 'netfilter' && step.file !== undefined && step.start !== undefined,
      'the Service is entered',
    );
    const node = step.file.replace(/^netpath:rules\//, '');
    const text = nodeRulesText(t, node);
    assert.ok(text !== undefined);
    assert.equal(text.slice(step.start, step.end), step.rule);
  });

  it('reading the rules text writes every line', () => {
    const a = analyse(files());
    takeWork();
    const text = nodeRulesText(a.topology, a.topology.nodes[0].name) ?? '';
    const dispatch = text.split('\n').filter((l) => l.startsWith('-A KUBE-SERVICES ') && l.includes(' cluster IP"'));
    assert.equal(dispatch.length, SIZE.services);
    assert.ok(takeWork().serviceLinesWritten >= SIZE.services);
  });
});
