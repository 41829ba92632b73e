/**
 * The one validator of host <-> webview traffic (src/protocol/validate.ts), fuzzed (issue 17). Its oracle is the
 * JSON Schema of the message types themselves (src/protocol/messages.ts, generated here as scripts/lib/trace-schema.mjs
 * generates the trace's): whatever a validator accepts must have the declared shape, so a view never draws from a
 * value of the wrong shape. Inputs: real messages (every example's topology, traces, reachability matrix and
 * explanation, a verify report, every webview message the views send) and their near-valid mutations (a value of
 * another type, a key dropped, an extra key such as __proto__ or constructor, a huge array, hostile strings), and
 * arbitrary JSON. A validator never throws, never changes what it checks, never touches Object.prototype.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { Ajv, type ValidateFunction } from 'ajv';
import fc from 'fast-check';
import { createGenerator, type Schema } from 'ts-json-schema-generator';
import { analyse, destinationChoices, sourceChoices } from '../../../src/core';
import type { HostMessage, ViewState, WebviewMessage } from '../../../src/protocol/messages';
import type { VerifyReportData } from '../../../src/protocol/verify';
import { isHostMessage, isVerifyReportData, isViewState, isWebviewMessage } from '../../../src/protocol/validate';
import { reachExplain, reachView } from '../../../src/vscode/reach-data';
import { compactSummary, traceViewData } from '../../../src/vscode/view-data';
import { fuzzTimeout, params } from './harness';

const ROOT = path.resolve(__dirname, '../../..');

/**
 * The declared shapes, from the TypeScript types; closed (no key the type does not declare) where the sender is
 * untrusted: a webview may send anything. A union is checked against its member of the same `type` or `view`, so a
 * failure names the field at fault, not the union.
 */
function schemas(): Record<'host' | 'webview' | 'state' | 'report', ValidateFunction> {
  const generator = (additionalProperties: boolean) =>
    createGenerator({
      path: path.join(ROOT, 'src/protocol/messages.ts'),
      tsconfig: path.join(ROOT, 'tsconfig.json'),
      type: '*',
      skipTypeCheck: true,
      additionalProperties,
    });
  const open = generator(true);
  const closed = generator(false);
  const ajv = new Ajv({ strict: false });
  const union = (schema: Schema, tag: string): ValidateFunction => {
    const root = schema.definitions?.[String(schema.$ref).split('/').pop() ?? ''] as Schema;
    const whole = ajv.compile(schema);
    const members = new Map<unknown, ValidateFunction>();
    for (const m of (root.anyOf ?? []) as Schema[]) {
      const member = (m.$ref ? schema.definitions?.[m.$ref.split('/').pop() ?? ''] : m) as Schema;
      const value = (member.properties?.[tag] as Schema | undefined)?.const;
      members.set(value, ajv.compile({ ...member, definitions: schema.definitions }));
    }
    const check = ((v: unknown) => {
      const member =
        v && typeof v === 'object' && !Array.isArray(v) ? members.get((v as Record<string, unknown>)[tag]) : undefined;
      const ok = (member ?? whole)(v);
      check.errors = (member ?? whole).errors;
      return ok;
    }) as ValidateFunction;
    assert.ok(members.size >= 4, `${tag}: ${members.size} members`);
    return check;
  };
  return {
    host: union(open.createSchema('HostMessage'), 'type'),
    webview: union(closed.createSchema('WebviewMessage'), 'type'),
    state: union(open.createSchema('ViewState'), 'view'),
    report: ajv.compile(open.createSchema('VerifyReportData')),
  };
}

/** As a message arrives: through JSON (VS Code's postMessage and setState serialize it). */
const wire = <T>(v: T): T => JSON.parse(JSON.stringify(v)) as T;

const REPORT: VerifyReportData = {
  topology: 'two-node-lab',
  prefix: 'npv-1',
  agree: false,
  flows: [
    {
      from: 'pod/client',
      to: 'svc/web:http',
      proto: 'tcp',
      kind: 'pod-to-service',
      agree: false,
      predicted: {
        src: '10.244.1.10',
        dst: '10.96.0.10',
        dport: 80,
        outcomes: [
          {
            probability: 0.5,
            disposition: 'delivered',
            reason: null,
            answeredBy: 'default/web-1:8080',
            sourceSeen: '10.244.1.10',
            nat: ['node:node1 DNAT 10.244.1.11 port 8080'],
            devices: [{ netns: 'node:node1', device: 'cni0', dir: 'in', optional: true }],
            policy: [
              {
                netns: 'node:node1',
                direction: 'ingress',
                pod: 'default/web-1',
                verdict: 'allowed',
                exempt: 'own-node',
              },
            ],
          },
        ],
      },
      observed: {
        tries: 4,
        sourceAddress: '10.244.1.10',
        outcomes: [
          {
            result: 'answered',
            answeredBy: 'default/web-1:8080',
            sourceSeen: '10.244.1.10',
            nat: [],
            devices: null,
            count: 4,
          },
        ],
      },
      differences: ['never answered by default/web-2:8080'],
      ms: 120,
      devices: 'not observed',
      devicesNote: ['tcpdump dropped 2 packets'],
      policy: [
        {
          netns: 'node:node1',
          direction: 'ingress',
          pod: 'default/web-1',
          verdict: 'allowed',
          policy: 'default/web',
          ruleIndex: 0,
          packets: 3,
        },
      ],
    },
  ],
  timings: { setupMs: 900, flowsMs: 300, teardownMs: 200 },
  unplacedPods: ['default/lost'],
  devices: { compared: 0, notObserved: 1, drops: 2, retried: 1 },
};

/** Every kind of message a well-behaved side sends, built as the host builds them, for every example. */
function validMessages(): { host: HostMessage[]; webview: WebviewMessage[]; state: ViewState[] } {
  const host: HostMessage[] = [
    { type: 'error', message: 'cannot read topology' },
    { type: 'verify', state: { view: 'verify', file: 'file:///w/lab.yaml', report: REPORT } },
  ];
  const webview: WebviewMessage[] = [
    { type: 'ready' },
    { type: 'reveal', file: '/w/lab.yaml', start: 3, end: 9 },
    { type: 'reveal', file: 'netpath:rules/node1', start: 0, end: 0 },
    { type: 'retrace', request: { from: 'pod/client', to: 'svc/web:http', proto: 'tcp', reply: true } },
    { type: 'export', format: 'svg', name: 'trace client.svg', content: '<svg/>' },
    { type: 'export', format: 'markdown', name: 'trace.md', content: '# trace' },
    { type: 'traceFrom', from: 'pod/default/client' },
    { type: 'traceFrom', to: 'svc/default/web:80' },
    { type: 'reachQuery', query: { from: 'ns/shop', to: 'app in (web)', port: 'TCP/8080' } },
    { type: 'explainCell', from: 0, to: 1, family: 'IPv6' },
    { type: 'exportReach', format: 'csv', fromNamespace: 'shop', toNamespace: '', onlyBlocked: true },
  ];
  const policy = {
    policy: { ipBlockPodIPs: 'match', nodeTraffic: 'allow' },
    source: { ipBlockPodIPs: 'default', nodeTraffic: 'setting' },
  } as const;
  for (const name of fs.readdirSync(path.join(ROOT, 'examples')).sort()) {
    const dir = path.join(ROOT, 'examples', name);
    const files = fs
      .readdirSync(dir)
      .filter((f) => /\.ya?ml$/.test(f))
      .map((f) => ({ path: `/w/${name}/${f}`, text: fs.readFileSync(path.join(dir, f), 'utf8') }));
    const analysis = analyse(files);
    const file = `file:///w/${name}/${files[0]?.path ?? ''}`;
    host.push({ type: 'topology', state: { view: 'topology', file }, data: compactSummary(analysis) });
    const from = sourceChoices(analysis.topology)[0]?.endpoint ?? 'pod/x';
    for (const to of destinationChoices(analysis.topology, from)
      .slice(0, 2)
      .map((c) => c.endpoint)) {
      const request = { from, to, proto: 'tcp', reply: true } as const;
      host.push({ type: 'trace', state: { view: 'trace', file, request }, data: traceViewData(analysis, request) });
    }
    const query = { from: '', to: '', port: '' };
    const view = reachView(analysis, query, policy);
    host.push({ type: 'reach', state: { view: 'reach', file, query }, data: view.data });
    const explain = view.data.sources.length ? reachExplain(view, 0, 0, 'IPv4') : undefined;
    if (explain) host.push({ type: 'reachExplain', explain });
  }
  const state = host.flatMap((m) => ('state' in m ? [m.state] : []));
  return { host: wire(host), webview: wire(webview), state: wire(state) };
}

// ---------------------------------------------------------------- mutations

/** The path to every value inside `v` (the root included). */
function pathsOf(v: unknown, at: (string | number)[] = [], out: (string | number)[][] = []): (string | number)[][] {
  // Bounded: a huge array's first thousands of values are as good as all of them.
  if (out.length >= 5000) return out;
  out.push(at);
  if (Array.isArray(v)) v.forEach((x, i) => pathsOf(x, [...at, i], out));
  else if (v && typeof v === 'object') for (const [k, x] of Object.entries(v)) pathsOf(x, [...at, k], out);
  return out;
}

const hostile = fc.constantFrom(
  '',
  '\u001b[2J\u001b]0;owned\u0007',
  '\u202egnp.exe',
  '<img src=x onerror=alert(1)>',
  '../../../etc/passwd',
  'x'.repeat(100_000),
  '__proto__',
  'constructor',
  '\ud800',
);
/** A value of another type, or of the same type with a value nobody sends. */
const otherValue: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom(null, true, false, 0, -1, 1.5, 1e308, -0, 2 ** 53, [], {}, [null], { length: 1 }),
  fc.constantFrom(Number.NaN, Number.POSITIVE_INFINITY, undefined),
  hostile,
  fc.jsonValue({ maxDepth: 2 }),
);
/** Own keys a JSON message can hold that every object answers to. */
const inheritedKey = fc.constantFrom('__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty', 'valueOf');

type Mutation =
  | { readonly at: number; readonly set: unknown }
  | { readonly at: number; readonly drop: true }
  | { readonly at: number; readonly add: string; readonly value: unknown }
  | { readonly at: number; readonly huge: number };

/**
 * One to three mutations, at most one of them a huge array: a huge array of huge arrays holds one value 10,000 x
 * 10,000 times over, and the judge's deep comparison of what was checked (which does not know the copies are one
 * object) then ran for minutes at some seeds, and seemed to hang with three.
 */
const mutations = (): fc.Arbitrary<Mutation[]> =>
  fc.array(mutation, { minLength: 1, maxLength: 3 }).filter((ms) => ms.filter((m) => 'huge' in m).length <= 1);

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ at: fc.nat(), set: otherValue }),
  fc.record({ at: fc.nat(), drop: fc.constant(true as const) }),
  fc.record({ at: fc.nat(), add: fc.oneof(inheritedKey, fc.string({ maxLength: 8 })), value: otherValue }),
  fc.record({ at: fc.nat(), huge: fc.constantFrom(1000, 10_000) }),
);

/** `v` with one mutation applied (a copy; `v` stays as it was). Own `__proto__` keys are made as JSON.parse makes them. */
function mutate(v: unknown, m: Mutation): unknown {
  const copy = structuredClone(v);
  const paths = pathsOf(copy);
  const where = paths[m.at % paths.length];
  if (!where.length) {
    if ('set' in m) return m.set;
    if ('huge' in m) return new Array<unknown>(m.huge).fill(copy);
    if ('add' in m && copy && typeof copy === 'object' && !Array.isArray(copy))
      Object.defineProperty(copy, m.add, { value: m.value, enumerable: true, writable: true, configurable: true });
    return copy;
  }
  const parent = where.slice(0, -1).reduce<unknown>((o, k) => (o as Record<string, unknown>)[k], copy) as Record<
    string | number,
    unknown
  >;
  const key = where[where.length - 1] ?? '';
  if ('set' in m) parent[key] = m.set;
  else if ('drop' in m) {
    if (Array.isArray(parent)) parent.splice(Number(key), 1);
    else delete parent[key];
  } else if ('huge' in m) {
    const x = parent[key];
    parent[key] = Array.isArray(x) ? new Array<unknown>(m.huge).fill(x[0] ?? x) : new Array<unknown>(m.huge).fill(x);
  } else {
    const target = parent[key];
    if (target && typeof target === 'object' && !Array.isArray(target))
      Object.defineProperty(target, m.add, { value: m.value, enumerable: true, writable: true, configurable: true });
    else parent[key] = { [m.add]: m.value };
  }
  return copy;
}

// ---------------------------------------------------------------- the properties

const PROTOTYPE_KEYS = Object.getOwnPropertyNames(Object.prototype).sort();

/** Checks the property a validator must have on `v`: a boolean, without throwing, and true only for the declared shape. */
function judge(name: string, check: (v: unknown) => boolean, shape: ValidateFunction, v: unknown): boolean {
  const before = structuredClone(v);
  let answer: unknown;
  try {
    answer = check(v);
  } catch (e) {
    assert.fail(`${name} threw ${String(e)}`);
  }
  assert.equal(typeof answer, 'boolean', `${name} answered ${String(answer)}`);
  if (answer && !shape(v))
    assert.fail(`${name} accepted a value of the wrong shape: ${JSON.stringify(shape.errors?.[0])}`);
  assert.deepEqual(structuredClone(v), before, `${name} changed what it checked`);
  assert.deepEqual(Object.getOwnPropertyNames(Object.prototype).sort(), PROTOTYPE_KEYS, 'Object.prototype changed');
  return answer === true;
}

describe('fuzz: host <-> webview messages are validated in one place', function () {
  this.timeout(fuzzTimeout());
  let shapes: ReturnType<typeof schemas>;
  let valid: ReturnType<typeof validMessages>;
  before(function () {
    this.timeout(120000);
    shapes = schemas();
    valid = validMessages();
  });

  const validators = () =>
    [
      ['isHostMessage', isHostMessage, shapes.host, valid.host],
      ['isWebviewMessage', isWebviewMessage, shapes.webview, valid.webview],
      ['isViewState', isViewState, shapes.state, valid.state],
      ['isVerifyReportData', isVerifyReportData, shapes.report, [wire(REPORT)]],
    ] as const;

  it('accepts every message the host and the views send, unchanged, each of the declared shape', () => {
    const kinds = new Set(valid.host.map((m) => m.type));
    assert.deepEqual([...kinds].sort(), ['error', 'reach', 'reachExplain', 'topology', 'trace', 'verify']);
    assert.ok(valid.host.length > 40, `${valid.host.length} host messages`);
    for (const [name, check, shape, messages] of validators())
      for (const m of messages) {
        assert.ok(shape(m), `${name}: the oracle refuses a real message: ${JSON.stringify(shape.errors?.[0])}`);
        assert.ok(judge(name, check, shape, m), `${name} refused ${JSON.stringify(m).slice(0, 300)}`);
      }
  });

  it('refuses near-valid mutations of real messages of a wrong shape, never throws', () => {
    fc.assert(
      fc.property(fc.nat({ max: 3 }), fc.nat(), mutations(), (k, i, ms) => {
        const [name, check, shape, messages] = validators()[k];
        const v = ms.reduce(mutate, messages[i % messages.length]);
        judge(name, check, shape, v);
      }),
      params(300),
    );
  });

  it('refuses arbitrary JSON, never throws', () => {
    const message = fc.oneof(
      fc.jsonValue({ maxDepth: 4 }),
      fc.record({
        type: fc.constantFrom('ready', 'reveal', 'retrace', 'export', 'topology', 'trace'),
        x: fc.jsonValue(),
      }),
      fc.record({
        view: fc.constantFrom('topology', 'trace', 'verify', 'reach'),
        file: fc.string(),
        request: fc.jsonValue(),
      }),
    );
    fc.assert(
      fc.property(fc.nat({ max: 3 }), message, (k, v) => {
        const [name, check, shape] = validators()[k];
        judge(name, check, shape, v);
      }),
      params(300),
    );
  });
});
