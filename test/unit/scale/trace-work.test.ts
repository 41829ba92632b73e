import assert from 'node:assert/strict';
import { analyse, compileDataPlane, traceFlow } from '../../../src/core';
import { takeWork, type WorkCounters } from '../../../src/core/work';
import { netpathCluster, netpathNftablesCluster, type ClusterSize } from '../../../bench/cluster';

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

/**
 * A trace to a Service with E endpoints follows E paths, and endpoint i's outcome of the source node's PREROUTING
 * carries the i-1 "not chosen" statistic decisions before its own: the walk links each shared decision into the
 * paths' step lists once, so doubling the endpoints doubles the steps linked (linking each outcome's whole list,
 * as before, made them grow 2.8x from 30 to 60 endpoints). Counted on a warm trace (the data plane already compiled), never timed.
 */
function warmServiceTraceWork(endpointsPerService: number): WorkCounters {
  const size: ClusterSize = { name: 'e', nodes: 6, pods: 6 * endpointsPerService, services: 6 };
  const a = analyse([{ path: 'e.yaml', text: netpathCluster(size) }]);
  const dp = compileDataPlane(a.topology);
  const flow = { from: `pod/${a.topology.pods[0].id}`, to: 'svc/svc1:http' };
  traceFlow(a.topology, flow, dp);
  takeWork();
  const out = traceFlow(a.topology, flow, dp);
  assert.equal(out.result?.paths.length, endpointsPerService, 'one path per endpoint');
  return takeWork();
}

describe('a trace shares the netfilter steps its endpoint paths have in common', () => {
  it('netfilter steps linked grow linearly with the endpoints of the Service', () => {
    const e30 = warmServiceTraceWork(30);
    const e60 = warmServiceTraceWork(60);
    assert.ok(e30.netfilterSteps > 0, 'netfilter steps are counted');
    const ratio = e60.netfilterSteps / e30.netfilterSteps;
    assert.ok(
      ratio <= 2.2,
      `netfilter steps grew ${ratio.toFixed(2)}x (${e30.netfilterSteps} -> ${e60.netfilterSteps})`,
    );
  });
});

/** The same flow traced twice on one data plane: the netfilter step objects each trace made, and the steps it linked. */
function stepObjectsTwice(text: string): { first: WorkCounters; again: WorkCounters } {
  const a = analyse([{ path: 'e.yaml', text }]);
  const dp = compileDataPlane(a.topology);
  const flow = { from: `pod/${a.topology.pods[0].id}`, to: 'svc/svc1:http' };
  takeWork();
  traceFlow(a.topology, flow, dp);
  const first = takeWork();
  const out = traceFlow(a.topology, flow, dp);
  assert.ok(out.result?.paths.length && out.result.paths.every((p) => p.disposition === 'delivered'));
  return { first, again: takeWork() };
}

describe('a rule that decides the same way again reuses its netfilter step', () => {
  it('a warm trace makes no netfilter step objects, the first one fewer than it links', () => {
    const size: ClusterSize = { name: 'e', nodes: 6, pods: 180, services: 6 };
    const a = analyse([{ path: 'e.yaml', text: netpathCluster(size) }]);
    const dp = compileDataPlane(a.topology);
    const flow = { from: `pod/${a.topology.pods[0].id}`, to: 'svc/svc1:http' };
    takeWork();
    traceFlow(a.topology, flow, dp);
    const first = takeWork();
    // The 30 endpoint paths cross the same rules of the same two nodes: most of their steps are one rule's one way.
    assert.ok(
      first.netfilterStepObjects * 3 < first.netfilterSteps,
      `${first.netfilterStepObjects} step objects for ${first.netfilterSteps} steps linked`,
    );
    traceFlow(a.topology, flow, dp);
    const again = takeWork();
    assert.ok(again.netfilterSteps > 0);
    assert.equal(again.netfilterStepObjects, 0, 'the same trace again makes no step');
  });
});

/**
 * The endpoint paths of a Service cross the same hooks of the same nodes with packets that differ only in their
 * destination pod and its veth, which the rules there do not tell apart (the destinations are all in the node's pod
 * range): one evaluation of each hook answers them all (src/core/netfilter/evaluate.ts, `SiblingQuestion`), so the hook
 * evaluations of a trace do not grow with the endpoints, on a fresh data plane or a warm one. Counted, never timed.
 */
function serviceTraceHooks(endpointsPerService: number): { first: number; again: number } {
  return serviceTraceWork(endpointsPerService, 'hookEvaluations', (out) =>
    assert.ok(out.result?.paths.every((p) => p.disposition === 'delivered')),
  );
}

describe("a Service's endpoint paths share the hook evaluations their rules cannot tell apart", () => {
  it('hook evaluations stay flat when the endpoints double', () => {
    const e30 = serviceTraceHooks(30);
    const e60 = serviceTraceHooks(60);
    assert.ok(e30.first > 0 && e30.again > 0, 'hook evaluations are counted');
    // 30 paths, each crossing about 6 hooks after the source node's DNAT, would make well over 100 without sharing.
    assert.ok(e30.first < 30, `${e30.first} hook evaluations for 30 endpoint paths`);
    assert.ok(
      e60.first <= e30.first,
      `first trace: ${e30.first} -> ${e60.first} hook evaluations for 2x the endpoints`,
    );
    assert.ok(e60.again <= e30.again, `warm trace: ${e30.again} -> ${e60.again} hook evaluations for 2x the endpoints`);
  });
});

/**
 * Nodes with nothing of their own share one parsed ruleset, and an evaluation of it has its decisions placed into the
 * node's own rules text (node-rules.ts `placeHookResult`). The DNAT of a Service with E endpoints has E outcomes, endpoint
 * i's carrying the i-1 "not chosen" decisions before its own: placed outcome by outcome, that was O(E^2) lookups on every
 * trace (the DNAT is evaluated again by each trace, warm or not). What an outcome shares with the one before is taken from
 * that one's placed list, so the lookups grow with the endpoints. Counted, never timed.
 */
function decisionsPlaced(endpointsPerService: number): { first: number; again: number } {
  return serviceTraceWork(endpointsPerService, 'decisionsPlaced');
}

/**
 * A work counter over a first trace to svc1 of a cluster of 6 alike nodes with `endpointsPerService` endpoints per
 * Service, and over the same trace again on the same data plane.
 */
function serviceTraceWork(
  endpointsPerService: number,
  counter: 'hookEvaluations' | 'decisionsPlaced',
  check: (out: ReturnType<typeof traceFlow>) => void = () => {},
): { first: number; again: number } {
  const size: ClusterSize = { name: 'e', nodes: 6, pods: 6 * endpointsPerService, services: 6 };
  const a = analyse([{ path: 'e.yaml', text: netpathCluster(size) }]);
  const dp = compileDataPlane(a.topology);
  const flow = { from: `pod/${a.topology.pods[0].id}`, to: 'svc/svc1:http' };
  takeWork();
  traceFlow(a.topology, flow, dp);
  const first = takeWork()[counter];
  const out = traceFlow(a.topology, flow, dp);
  assert.equal(out.result?.paths.length, endpointsPerService, 'one path per endpoint');
  check(out);
  return { first, again: takeWork()[counter] };
}

describe("a shared ruleset's decisions are placed into a node's text once per outcome's own decisions", () => {
  it('decisions placed grow linearly with the endpoints of the Service', () => {
    const e30 = decisionsPlaced(30);
    const e60 = decisionsPlaced(60);
    assert.ok(e30.first > 0 && e30.again > 0, 'the nodes share their ruleset: decisions are placed');
    for (const k of ['first', 'again'] as const) {
      const ratio = e60[k] / e30[k];
      assert.ok(
        ratio <= 2.2,
        `${k} trace: ${e30[k]} -> ${e60[k]} decisions placed (${ratio.toFixed(2)}x) for 2x the endpoints`,
      );
    }
  });
});

describe('in nftables mode too, a rule that decides the same way again reuses its netfilter step', () => {
  it('a warm trace makes a step object at most per endpoint path (the filter places each span once)', () => {
    const size: ClusterSize = { name: 'e', nodes: 6, pods: 180, services: 6 };
    const { first, again } = stepObjectsTwice(netpathNftablesCluster(size));
    assert.ok(first.netfilterStepObjects > 0 && again.netfilterSteps > 0, 'netfilter steps are made and linked');
    // kube-proxy's one numgen vmap rule picks among the Service's 30 endpoints: a rule keeps its steps for a few ways
    // of deciding only, so its choice is made again per endpoint path; every other step is kept (a span placed anew
    // per evaluation, and a base chain's policy, which names no rule, made them all anew: over 200 here).
    assert.ok(
      again.netfilterStepObjects <= 30,
      `the same trace again made ${again.netfilterStepObjects} step objects for 30 endpoint paths`,
    );
  });
});

/**
 * The rules of kube-proxy's nftables mode evaluated by a trace to a Service whose E endpoints are spread over alike
 * nodes: a warm trace (another pod to another Service, on a data plane a first trace compiled), counted, never timed.
 */
function nftServiceTraceRules(endpointsPerService: number): number {
  const size: ClusterSize = { name: 'e', nodes: 6, pods: 6 * endpointsPerService, services: 6 };
  const a = analyse([{ path: 'e.yaml', text: netpathNftablesCluster(size) }]);
  const dp = compileDataPlane(a.topology);
  traceFlow(a.topology, { from: `pod/${a.topology.pods[0].id}`, to: 'svc/svc1:http' }, dp);
  takeWork();
  const out = traceFlow(a.topology, { from: `pod/${a.topology.pods[1].id}`, to: 'svc/svc2:http' }, dp);
  assert.equal(out.result?.paths.length, endpointsPerService, 'one path per endpoint');
  assert.ok(out.result?.paths.every((p) => p.disposition === 'delivered'));
  return takeWork().rulesEvaluated;
}

describe("in nftables mode too, a Service's endpoint paths share the hook evaluations their rules cannot tell apart", () => {
  it('rules evaluated grow by a few per endpoint, not by every hook of every path', () => {
    const e30 = nftServiceTraceRules(30);
    const e60 = nftServiceTraceRules(60);
    // Each path picks its endpoint (the numgen map, then its endpoint chain's DNAT): a couple of rules of its own. The
    // hooks after the DNAT (forward, postrouting, the destination node's) are answered once for all paths; evaluated
    // per path, they were about 20 rules each (over 600 for 30 endpoints).
    assert.ok(e30 <= 30 * 4, `${e30} rules evaluated for 30 endpoint paths`);
    assert.ok(e60 - e30 <= 30 * 3, `${e30} -> ${e60} rules evaluated for 2x the endpoints`);
  });
});

/**
 * In its large-cluster mode (over 1,000 endpoints: no per-endpoint comments) kube-proxy writes the lines of every
 * Service alike but for chain names and addresses: its endpoint jumps (`-m statistic --mode random --probability P -j
 * KUBE-SEP-…`) and each endpoint's KUBE-SEP chain (`-s IP -j KUBE-MARK-MASQ`, `-j DNAT --to-destination IP:PORT`).
 * The parse memo keeps them by that shape, so a trace to a second Service reads only the lines that carry its
 * comment (its cluster IP's dispatch and first KUBE-SVC line), not its 3E endpoint lines again. Counted, never timed.
 */
describe('a trace to a new Service takes its endpoint lines from the Service before', () => {
  it('reads only the lines of the second Service that name it, none per endpoint', () => {
    const size: ClusterSize = { name: 'e', nodes: 36, pods: 1080, services: 36 };
    const a = analyse([{ path: 'e.yaml', text: netpathCluster(size) }]);
    const dp = compileDataPlane(a.topology);
    const svcEndpoints = 30;
    const trace = (svc: string): WorkCounters => {
      takeWork();
      const out = traceFlow(a.topology, { from: `pod/${a.topology.pods[0].id}`, to: `svc/${svc}:http` }, dp);
      assert.equal(out.result?.paths.length, svcEndpoints, 'one path per endpoint');
      assert.ok(out.result?.paths.every((p) => p.disposition === 'delivered'));
      return takeWork();
    };
    const first = trace('svc1');
    const second = trace('svc2');
    assert.ok(first.iptablesLinesParsed > 2, `the first Service's lines are read (${first.iptablesLinesParsed})`);
    assert.ok(
      second.iptablesLinesParsed <= 4,
      `the second Service reads ${second.iptablesLinesParsed} lines, not one per endpoint (${svcEndpoints})`,
    );
  });
});

describe("a Service's endpoint paths share the hops they crossed alike", () => {
  it('each hop is made once, however many paths cross it', () => {
    const size: ClusterSize = { name: 'e', nodes: 6, pods: 180, services: 6 };
    const a = analyse([{ path: 'e.yaml', text: netpathCluster(size) }]);
    const dp = compileDataPlane(a.topology);
    const flow = { from: `pod/${a.topology.pods[0].id}`, to: 'svc/svc1:http' };
    traceFlow(a.topology, flow, dp);
    takeWork();
    const out = traceFlow(a.topology, flow, dp);
    const made = takeWork().hopObjects;
    const hops = (out.result?.paths ?? []).flatMap((p) => p.hops);
    assert.equal(out.result?.paths.length, 30, 'one path per endpoint');
    // Every hop made is in the result, none made twice: the source pod's hop, before the DNAT splits the walk, is one
    // object in all 30 paths (copying each path's hops at every device made them per path).
    assert.equal(made, new Set(hops).size, `${made} hops made, ${new Set(hops).size} distinct in the result`);
    assert.ok(made <= hops.length - 29, `${made} hops made for ${hops.length} hops of 30 paths`);
  });
});

/**
 * A path's notes come from its affinity steps and from an end at a load balancer: a trace reads the steps of the paths
 * that may hold one, not every step of each of a Service's endpoint paths (about 20 per path) to find none. With
 * ClientIP session affinity every endpoint path has its note, and is read. Counted, never timed.
 */
describe("a Service's endpoint paths are read for notes only when they may hold one", () => {
  const trace = (text: string) => {
    const a = analyse([{ path: 'e.yaml', text }]);
    const dp = compileDataPlane(a.topology);
    const flow = { from: `pod/${a.topology.pods[0].id}`, to: 'svc/svc1:http' };
    traceFlow(a.topology, flow, dp);
    takeWork();
    const out = traceFlow(a.topology, flow, dp);
    return { paths: out.result?.paths ?? [], read: takeWork().noteStepsRead };
  };
  const size: ClusterSize = { name: 'e', nodes: 6, pods: 180, services: 6 };

  it('no step is read for notes on a trace to a Service without session affinity', () => {
    const { paths, read } = trace(netpathCluster(size));
    assert.equal(paths.length, 30, 'one path per endpoint');
    assert.ok(paths.every((p) => !p.notes));
    assert.equal(read, 0, `${read} steps read for notes`);
  });

  it('with ClientIP session affinity, every endpoint path is read and keeps its note', () => {
    const text = netpathCluster(size).replaceAll(
      '    selector: {app: app',
      '    sessionAffinity: ClientIP\n    selector: {app: app',
    );
    const { paths, read } = trace(text);
    assert.equal(paths.length, 30, 'one path per endpoint');
    assert.ok(
      paths.every((p) => p.notes?.length === 1 && p.notes[0].includes('session affinity')),
      'each path notes its affinity',
    );
    assert.ok(read > 30, `${read} steps read for notes`);
  });
});
