import assert from 'node:assert/strict';
import { analyse, compileDataPlane, traceFlow } from '../../../src/core';
import { takeWork, type WorkCounters } from '../../../src/core/work';
import { netpathCluster, type ClusterSize } from '../../../bench/cluster';

/**
 * A trace to one Service parses the rules of what it enters, not kube-proxy's dispatch rules of every Service:
 * KUBE-SERVICES (one rule per Service port) is indexed from its lines, so on a cluster with 8 times the Services
 * (and the same endpoints per Service) the first trace makes about as many rule objects. Counted, never timed.
 */
function firstTraceWork(size: ClusterSize, edit: (text: string) => string = (x) => x): WorkCounters {
  const a = analyse([{ path: `c${size.nodes}.yaml`, text: edit(netpathCluster(size)) }]);
  const dp = compileDataPlane(a.topology);
  takeWork();
  const out = traceFlow(a.topology, { from: `pod/${a.topology.pods[0].id}`, to: 'svc/svc1:http' }, dp);
  assert.ok(out.result?.paths.length && out.result.paths.every((p) => p.disposition === 'delivered'));
  return takeWork();
}

describe('a trace to one Service builds rule objects for the Services it enters only', () => {
  it('rule objects of the first trace stay flat when the Services grow 8x', () => {
    const small = firstTraceWork({ name: 'small', nodes: 6, pods: 180, services: 30 });
    const large = firstTraceWork({ name: 'large', nodes: 48, pods: 1440, services: 240 });
    // The large cluster's KUBE-SERVICES alone holds 240 rules: parsing it would make the count grow by them.
    assert.ok(
      large.ruleObjects <= small.ruleObjects * 1.25,
      `rule objects ${small.ruleObjects} -> ${large.ruleObjects} for 8x the Services`,
    );
    assert.ok(large.ruleObjects < 240, `fewer rule objects (${large.ruleObjects}) than Services (240)`);
  });

  it('with ClientIP session affinity too (which rule checks the recent list is found without parsing every chain)', () => {
    const affinity = (text: string): string => {
      assert.ok(text.includes('    selector: {app: app'), 'the synthetic topology lists its Services as expected');
      return text.replaceAll('    selector: {app: app', '    sessionAffinity: ClientIP\n    selector: {app: app');
    };
    const small = firstTraceWork({ name: 'small', nodes: 6, pods: 180, services: 30 }, affinity);
    const large = firstTraceWork({ name: 'large', nodes: 48, pods: 1440, services: 240 }, affinity);
    assert.ok(
      large.ruleObjects <= small.ruleObjects * 1.25,
      `rule objects ${small.ruleObjects} -> ${large.ruleObjects} for 8x the Services`,
    );
    assert.ok(large.ruleObjects < 240, `fewer rule objects (${large.ruleObjects}) than Services (240)`);
  });
});
