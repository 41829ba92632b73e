/**
 * Trace branches are bounded (issue 17): random choices met one after another multiply a trace's paths, so a walk
 * follows at most MAX_TRACE_PATHS of them and says what it left out (`notFollowed`, `trace.too-many-branches`),
 * never hangs and never cuts silently.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { formatTraceText, MAX_TRACE_PATHS, traceFlow, TRACE_TOO_MANY_BRANCHES } from '../../../src/core';
import { branchBudget } from '../../../src/core/branches';
import { buildTopology } from '../../../src/core/model/build';
import { evaluateHook, parseIptablesSave } from '../../../src/core/netfilter';

const FIXTURES = path.resolve(__dirname, '../../fixtures/traces');
const base = (name: string): string => fs.readFileSync(path.join(FIXTURES, name, 'topology.yaml'), 'utf8');

/** The two-node lab with node1's own mangle rules in front of its masquerade rule. */
function withMangle(rules: readonly string[]): string {
  const text = base('raw-iptables-nat').replace(
    '      *nat\n',
    `      *mangle\n${rules.map((r) => `      ${r}\n`).join('')}      COMMIT\n      *nat\n`,
  );
  assert.ok(text.includes('*mangle'));
  return text;
}

/** An n-way split as kube-proxy writes one (probability 1/n, 1/(n-1), ..., then the last without a match). */
function split(n: number): string[] {
  return Array.from({ length: n }, (_, i) =>
    i === n - 1
      ? `-A PREROUTING -j ACCEPT`
      : `-A PREROUTING -m statistic --mode random --probability ${(1 / (n - i)).toFixed(11)} -j ACCEPT`,
  );
}

/** The model only (the rules' own probe traces would walk the same splits again). */
const topology = (text: string) => buildTopology([{ path: '/t.yaml', text }]).topology;

/** The laptop to node1's own address: node1's PREROUTING, then INPUT; no Service split on the way. */
const trace = (text: string) => traceFlow(topology(text), { from: 'external/laptop', to: '192.168.56.11:22' });

const sum = (ps: readonly { probability: number }[]): number => ps.reduce((a, p) => a + p.probability, 0);

describe('bounds: trace branches', function () {
  this.timeout(120000);

  it(`follows every path up to the bound (${MAX_TRACE_PATHS})`, () => {
    const { result, problems } = trace(withMangle(split(MAX_TRACE_PATHS)));
    assert.ok(result);
    assert.equal(result.paths.length, MAX_TRACE_PATHS);
    assert.equal(result.notFollowed, undefined);
    assert.ok(!problems.some((p) => p.code === TRACE_TOO_MANY_BRANCHES));
    assert.ok(Math.abs(sum(result.paths) - 1) < 1e-6);
  });

  it('one path over the bound: the least likely side of the last choice is not followed, and the trace says so', () => {
    const { result, problems } = trace(withMangle(split(MAX_TRACE_PATHS + 1)));
    assert.ok(result);
    assert.equal(result.paths.length, MAX_TRACE_PATHS);
    assert.deepEqual(result.notFollowed?.limit, MAX_TRACE_PATHS);
    // The last choice is 50/50 over the 2/(n) the last two rules share: 1/n of the probability is left out.
    assert.ok(Math.abs((result.notFollowed?.probability ?? 0) - 1 / (MAX_TRACE_PATHS + 1)) < 1e-6);
    assert.ok(Math.abs(sum(result.paths) + (result.notFollowed?.probability ?? 0) - 1) < 1e-6);
    const p = problems.find((x) => x.code === TRACE_TOO_MANY_BRANCHES);
    assert.equal(p?.severity, 'warning');
    assert.match(p?.message ?? '', /more random choices than 1000 paths hold/);
    assert.match(
      formatTraceText(result),
      /warning: more random choices than 1000 paths hold.*trace\.too-many-branches/,
    );
  });

  it('choices in a row (each doubling the paths) end at the bound instead of growing exponentially', () => {
    // 40 rules that each mark with probability 1/2: 2^40 walks unbounded.
    const rules = Array.from(
      { length: 40 },
      (_, i) =>
        `-A PREROUTING -m statistic --mode random --probability 0.5 -j MARK --set-xmark 0x${(1 << (i % 30)).toString(16)}/0x0`,
    );
    const { result, problems } = trace(withMangle(rules));
    assert.ok(result);
    assert.ok(result.paths.length <= MAX_TRACE_PATHS && result.paths.length > 1);
    assert.ok(result.notFollowed && result.notFollowed.probability > 0.5);
    assert.ok(problems.some((x) => x.code === TRACE_TOO_MANY_BRANCHES));
  });

  it("nftables' numgen choices share the same bound", () => {
    const rules = Array.from({ length: 20 }, () => `      numgen random mod 2 == 0 meta mark set mark or 0x1`).join(
      '\n',
    );
    const text = base('node-nftables-mark').replace(
      '      ip saddr 192.168.56.11 meta mark set mark or 0x4000',
      `${rules}\n      ip saddr 192.168.56.11 meta mark set mark or 0x4000`,
    );
    const { result, problems } = traceFlow(topology(text), { from: 'node/node1', to: 'pod/web-2:8080' });
    assert.ok(result);
    assert.ok(result.notFollowed);
    assert.ok(problems.some((x) => x.code === TRACE_TOO_MANY_BRANCHES));
  });

  it('a numgen modulus of 2^32 - 1 is counted over its elements, not value by value', () => {
    const text = base('node-nftables-mark').replace(
      '      ip saddr 192.168.56.11 meta mark set mark or 0x4000',
      `      numgen random mod 4294967295 vmap { 0 : drop, 1-2147483647 : accept }\n      ip saddr 192.168.56.11 meta mark set mark or 0x4000`,
    );
    const { result } = traceFlow(topology(text), { from: 'node/node1', to: 'pod/web-2:8080' });
    assert.ok(result);
    const dropped = result.paths.filter((p) => p.disposition === 'dropped');
    assert.equal(dropped.length, 1);
    // 1 value in 2^32 - 1 (probabilities are rounded to 1e-9); the accept range takes half of them, the rest match nothing.
    assert.ok(dropped[0].probability < 1e-9);
    assert.deepEqual(
      result.paths.filter((p) => p.disposition === 'delivered').map((p) => p.probability),
      [0.5, 0.5],
    );
    assert.ok(Math.abs(sum(result.paths) - 1) < 1e-6);
  });

  it('a chain of 6,000 statistic rules is walked without recursion (it once overflowed the stack at 5,000)', () => {
    const lines = ['*mangle', ':PREROUTING ACCEPT [0:0]'];
    for (let i = 0; i < 6000; i++)
      lines.push(
        `-A PREROUTING -m statistic --mode random --probability 0.5 -j MARK --set-xmark 0x${(i % 255) + 1}/0xff`,
      );
    lines.push('COMMIT', '');
    const { ruleset, problems } = parseIptablesSave(lines.join('\n'), 'big.rules', 0);
    assert.deepEqual(problems, []);
    const budget = branchBudget(2);
    const r = evaluateHook(
      ruleset,
      'PREROUTING',
      { family: 4, proto: 'tcp', src: '10.0.0.1', dst: '10.0.0.2', sport: 1, dport: 2, mark: 0 },
      { localAddresses: [], conntrack: { state: 'NEW' }, branches: budget },
    );
    assert.equal(r.outcomes.length, 2);
    assert.ok(budget.choicesCut > 0);
  });
});
