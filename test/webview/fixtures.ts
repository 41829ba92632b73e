/** Host messages built the way the extension builds them (src/vscode/view-data.ts), from the golden traces. */
import fs from 'node:fs';
import path from 'node:path';
import { analyse, traceFlow } from '../../src/core';
import type {
  HostMessage,
  TopologySummary,
  TraceResult,
  TraceViewData,
  TraceViewState,
} from '../../src/protocol/messages';
import { compactTopology } from '../../src/protocol/topology';
import { summarise, traceViewData } from '../../src/vscode/view-data';
import { ROOT } from './harness';

export const TRACES = path.join(ROOT, 'test/fixtures/traces');
export const goldenNames = () =>
  fs
    .readdirSync(TRACES)
    .filter((d) => fs.existsSync(path.join(TRACES, d, 'expected.json')))
    .sort();

export interface Golden {
  readonly name: string;
  readonly state: TraceViewState;
  readonly data: TraceViewData;
  readonly expected: TraceResult;
}

/** The trace message for a golden case: the places and choices from the topology, the trace from expected.json. */
export function golden(name: string): Golden {
  const dir = path.join(TRACES, name);
  const text = fs.readFileSync(path.join(dir, 'topology.yaml'), 'utf8');
  const req = JSON.parse(fs.readFileSync(path.join(dir, 'request.json'), 'utf8')) as {
    from: string;
    to: string;
    proto?: 'tcp' | 'udp' | 'sctp' | 'icmp';
    reply?: boolean;
  };
  const expected = JSON.parse(fs.readFileSync(path.join(dir, 'expected.json'), 'utf8')) as TraceResult;
  const analysis = analyse([{ path: '/work/topology.yaml', text }]);
  const request = { from: req.from, to: req.to, proto: req.proto ?? 'tcp', reply: !!req.reply };
  const state: TraceViewState = { view: 'trace', file: 'file:///work/topology.yaml', request };
  return { name, state, data: { ...traceViewData(analysis, request), result: expected }, expected };
}

/**
 * A golden case's topology with kube-proxy in nftables mode, traced now (its expected.json is iptables mode's): what
 * the view gets for a cluster running kube-proxy's nftables tables.
 */
export function goldenNftables(name: string): Golden {
  const dir = path.join(TRACES, name);
  const original = fs.readFileSync(path.join(dir, 'topology.yaml'), 'utf8');
  const text = original.includes('    mode: iptables\n')
    ? original.replace('    mode: iptables\n', '    mode: nftables\n')
    : original.replace(/^cluster:\n/m, 'cluster:\n  kubeProxy: {mode: nftables}\n');
  const req = JSON.parse(fs.readFileSync(path.join(dir, 'request.json'), 'utf8')) as { from: string; to: string };
  const analysis = analyse([{ path: '/work/topology.yaml', text }]);
  if (analysis.topology.cluster.kubeProxy.mode !== 'nftables') throw new Error(`${name}: not switched to nftables`);
  const request = { from: req.from, to: req.to, proto: 'tcp' as const, reply: false };
  const result = traceFlow(analysis.topology, request).result;
  if (!result) throw new Error(`${name}: no trace in nftables mode`);
  const state: TraceViewState = { view: 'trace', file: 'file:///work/topology.yaml', request };
  return { name: `${name} (nftables)`, state, data: { ...traceViewData(analysis, request), result }, expected: result };
}

export const traceMessage = (g: Golden): HostMessage => ({ type: 'trace', state: g.state, data: g.data });

/** The topology view's summary of the example-like fixture of a golden case. */
export function topologySummary(name: string): TopologySummary {
  const text = fs.readFileSync(path.join(TRACES, name, 'topology.yaml'), 'utf8');
  return summarise(analyse([{ path: '/work/topology.yaml', text }]));
}

/** The host's message for a summary: compacted as the host sends it (src/protocol/topology.ts). */
export const topologyMessageOf = (t: TopologySummary, file = 'file:///work/topology.yaml'): HostMessage => ({
  type: 'topology',
  state: { view: 'topology', file },
  data: compactTopology(t),
});

/** A topology message for the example-like fixture of a golden case. */
export const topologyMessage = (name: string): HostMessage => topologyMessageOf(topologySummary(name));
