import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  evaluateHook,
  parseIptablesSave,
  type EvalContext,
  type Hook,
  type HookResult,
  type Packet,
  type Ruleset,
} from '../../../src/core/netfilter';

function ruleset(text: string): Ruleset {
  const r = parseIptablesSave(text, 'test.rules', 0);
  assert.deepEqual(r.problems, [], 'test rulesets must parse cleanly');
  return r.ruleset;
}

const PKT: Packet = {
  family: 4,
  proto: 'tcp',
  src: '10.244.1.2',
  dst: '10.96.0.10',
  sport: 40000,
  dport: 80,
  mark: 0,
  inIface: 'eth0',
};
const CTX: EvalContext = {
  localAddresses: ['192.168.1.10', '127.0.0.1'],
  conntrack: { state: 'NEW' },
  outIfaceAddress: '192.168.1.10',
};

function run(text: string, hook: Hook, packet: Partial<Packet> = {}, ctx: Partial<EvalContext> = {}): HookResult {
  return evaluateHook(ruleset(text), hook, { ...PKT, ...packet }, { ...CTX, ...ctx });
}

function only(r: HookResult) {
  assert.equal(r.outcomes.length, 1, 'expected exactly one outcome');
  return r.outcomes[0];
}

const filterInput = (rules: string, policy = 'ACCEPT') =>
  `*filter\n:INPUT ${policy} [0:0]\n:A - [0:0]\n:B - [0:0]\n${rules}\nCOMMIT\n`;

describe('netfilter/evaluate', () => {
  describe('visits the tables of each hook in kernel order', () => {
    const all = ['raw', 'mangle', 'nat', 'filter']
      .map((t) => {
        const chains: Record<string, string[]> = {
          raw: ['PREROUTING', 'OUTPUT'],
          mangle: ['PREROUTING', 'INPUT', 'FORWARD', 'OUTPUT', 'POSTROUTING'],
          nat: ['PREROUTING', 'INPUT', 'OUTPUT', 'POSTROUTING'],
          filter: ['INPUT', 'FORWARD', 'OUTPUT'],
        };
        return `*${t}\n${chains[t].map((c) => `-A ${c} -j LOG --log-prefix ${t}`).join('\n')}\nCOMMIT`;
      })
      .join('\n');
    const cases: [Hook, string[]][] = [
      ['PREROUTING', ['raw', 'mangle', 'nat']],
      ['INPUT', ['mangle', 'filter', 'nat']],
      ['FORWARD', ['mangle', 'filter']],
      ['OUTPUT', ['raw', 'mangle', 'nat', 'filter']],
      ['POSTROUTING', ['mangle', 'nat']],
    ];
    for (const [hook, tables] of cases) {
      it(hook, () => {
        const o = only(run(all, hook));
        assert.equal(o.verdict, 'ACCEPT');
        assert.deepEqual(
          o.decisions.filter((d) => d.ruleIndex >= 0).map((d) => d.table),
          tables,
        );
      });
    }
    it('skips nat for packets that are not the first of their connection', () => {
      const o = only(run(all, 'OUTPUT', {}, { conntrack: { state: 'ESTABLISHED' } }));
      assert.deepEqual(
        o.decisions.filter((d) => d.ruleIndex >= 0).map((d) => d.table),
        ['raw', 'mangle', 'filter'],
      );
      const skip = o.decisions.find((d) => d.table === 'nat');
      assert.ok(skip && !skip.matched && /not the first packet/.test(skip.action));
    });
  });

  describe('matches (rule -j DROP under policy ACCEPT)', () => {
    const cases: [name: string, rule: string, packet: Partial<Packet>, ctx: Partial<EvalContext>, dropped: boolean][] =
      [
        ['source prefix', '-s 10.244.0.0/16', {}, {}, true],
        ['source prefix miss', '-s 10.245.0.0/16', {}, {}, false],
        ['negated source', '! -s 10.244.0.0/16', {}, {}, false],
        ['negated source miss', '! -s 10.245.0.0/16', {}, {}, true],
        ['destination address', '-d 10.96.0.10', {}, {}, true],
        ['destination of other family never matches', '-d ::/0', {}, {}, false],
        ['negated destination of other family never matches', '! -d fd00::/8', {}, {}, false],
        ['ipv6 destination', '-d fd00::/8', { family: 6, src: 'fd00::1', dst: 'fd00::2' }, {}, true],
        ['protocol', '-p tcp', {}, {}, true],
        ['protocol miss', '-p udp', {}, {}, false],
        ['negated protocol', '! -p udp', {}, {}, true],
        ['protocol all', '-p all', {}, {}, true],
        ['protocol by number', '-p 17', { proto: 'udp' }, {}, true],
        ['in interface', '-i eth0', {}, {}, true],
        ['in interface wildcard', '-i eth+', {}, {}, true],
        ['in interface wildcard miss', '-i cni+', {}, {}, false],
        ['negated out interface without one', '! -o eth0', {}, {}, true],
        ['out interface without one', '-o eth0', {}, {}, false],
        ['dport', '-p tcp --dport 80', {}, {}, true],
        ['dport range', '-p tcp -m tcp --dport 1:1024', {}, {}, true],
        ['dport range miss', '-p tcp --dport 81:1024', {}, {}, false],
        ['negated sport', '-p tcp ! --sport 40000', {}, {}, false],
        ['udp dport on tcp packet', '-p udp --dport 80', {}, {}, false],
        ['multiport dports', '-p tcp -m multiport --dports 22,80', {}, {}, true],
        ['multiport ports (source side)', '-p tcp -m multiport --ports 40000', {}, {}, true],
        ['negated multiport', '-p tcp -m multiport ! --dports 22,443', {}, {}, true],
        ['comment always matches', '-m comment --comment "x y"', {}, {}, true],
        ['mark with mask', '-m mark --mark 0x4000/0x4000', { mark: 0x4001 }, {}, true],
        ['mark with mask miss', '-m mark --mark 0x4000/0x4000', { mark: 0x1 }, {}, false],
        ['negated mark', '-m mark ! --mark 0x4000/0x4000', { mark: 0 }, {}, true],
        ['exact mark', '-m mark --mark 0x1', { mark: 0x1 }, {}, true],
        ['addrtype dst LOCAL', '-m addrtype --dst-type LOCAL', { dst: '192.168.1.10' }, {}, true],
        ['addrtype dst LOCAL miss', '-m addrtype --dst-type LOCAL', {}, {}, false],
        ['negated addrtype', '-m addrtype ! --dst-type LOCAL', {}, {}, true],
        ['addrtype src UNICAST', '-m addrtype --src-type UNICAST', {}, {}, true],
        ['addrtype MULTICAST', '-m addrtype --dst-type MULTICAST', { dst: '239.1.1.1' }, {}, true],
        ['addrtype BROADCAST', '-m addrtype --dst-type BROADCAST', { dst: '255.255.255.255' }, {}, true],
        [
          'addrtype limit-iface-in',
          '-m addrtype --dst-type LOCAL --limit-iface-in',
          { dst: '192.168.1.10' },
          { interfaceAddresses: { eth1: ['192.168.1.10'] } },
          false,
        ],
        ['ctstate NEW', '-m conntrack --ctstate NEW', {}, {}, true],
        ['ctstate list miss', '-m conntrack --ctstate RELATED,ESTABLISHED', {}, {}, false],
        ['ctstate ESTABLISHED', '-m state --state ESTABLISHED', {}, { conntrack: { state: 'ESTABLISHED' } }, true],
        ['ctstate DNAT', '-m conntrack --ctstate DNAT', {}, { conntrack: { state: 'NEW', dnat: true } }, true],
        ['negated ctstate', '-m conntrack ! --ctstate RELATED,ESTABLISHED,DNAT', {}, {}, true],
        ['recent rcheck unseen', '-m recent --name S --rcheck --seconds 10', {}, {}, false],
        [
          'recent rcheck seen',
          '-m recent --name S --rcheck --seconds 10',
          {},
          { recent: [{ name: 'S', address: '10.244.1.2' }] },
          true,
        ],
        [
          'recent rcheck other list',
          '-m recent --name T --rcheck',
          {},
          { recent: [{ name: 'S', address: '10.244.1.2' }] },
          false,
        ],
        ['recent set always matches', '-m recent --name S --set', {}, {}, true],
        ['physdev bridged', '-m physdev --physdev-is-bridged', { bridged: true }, {}, true],
        ['physdev not bridged', '-m physdev --physdev-is-bridged', {}, {}, false],
        ['nfacct always matches', '-m nfacct --nfacct-name x', {}, {}, true],
        ['all matches must hold', '-s 10.244.0.0/16 -p udp', {}, {}, false],
      ];
    for (const [name, rule, packet, ctx, dropped] of cases) {
      it(name, () => {
        const o = only(run(filterInput(`-A INPUT ${rule} -j DROP`), 'INPUT', packet, ctx));
        assert.equal(o.verdict, dropped ? 'DROP' : 'ACCEPT');
        assert.equal(
          o.decisions.some((d) => d.matched && d.action === 'DROP'),
          dropped,
        );
      });
    }
  });

  describe('chains', () => {
    it('jump then fall off the user chain continues in the caller', () => {
      const o = only(run(filterInput('-A INPUT -j A\n-A INPUT -j DROP\n-A A -j LOG'), 'INPUT'));
      assert.equal(o.verdict, 'DROP');
      assert.deepEqual(
        o.decisions.map((d) => `${d.chain}:${d.action}`),
        ['INPUT:jump A', 'A:LOG (no effect on the packet)', 'INPUT:DROP'],
      );
    });
    it('RETURN from a user chain returns to the caller', () => {
      const o = only(run(filterInput('-A INPUT -j A\n-A INPUT -j REJECT\n-A A -j RETURN\n-A A -j ACCEPT'), 'INPUT'));
      assert.equal(o.verdict, 'REJECT');
    });
    it('RETURN in a built-in chain applies the policy', () => {
      const o = only(run(filterInput('-A INPUT -j RETURN\n-A INPUT -j ACCEPT', 'DROP'), 'INPUT'));
      assert.equal(o.verdict, 'DROP');
      assert.equal(o.decisions.at(-1)!.action, 'policy DROP');
    });
    it('falling off a built-in chain applies its policy', () => {
      assert.equal(only(run(filterInput('', 'DROP'), 'INPUT')).verdict, 'DROP');
      assert.equal(only(run(filterInput('', 'ACCEPT'), 'INPUT')).verdict, 'ACCEPT');
    });
    it('goto: RETURN goes back past the chain that did the goto', () => {
      const text = filterInput('-A INPUT -j A\n-A INPUT -j ACCEPT\n-A A -g B\n-A A -j DROP\n-A B -j RETURN');
      const o = only(run(text, 'INPUT'));
      assert.equal(o.verdict, 'ACCEPT');
      assert.ok(!o.decisions.some((d) => d.action === 'DROP'));
    });
    it('goto from a built-in chain ends in the policy', () => {
      const o = only(run(filterInput('-A INPUT -g A\n-A INPUT -j ACCEPT', 'DROP'), 'INPUT'));
      assert.equal(o.verdict, 'DROP');
    });
    it('ACCEPT ends only the current table', () => {
      const text = '*mangle\n-A INPUT -j ACCEPT\nCOMMIT\n*filter\n:INPUT ACCEPT [0:0]\n-A INPUT -j DROP\nCOMMIT\n';
      assert.equal(only(run(text, 'INPUT')).verdict, 'DROP');
    });
    it('REJECT keeps --reject-with; DROP has none', () => {
      const r = only(run(filterInput('-A INPUT -j REJECT --reject-with tcp-reset'), 'INPUT'));
      assert.equal(r.verdict, 'REJECT');
      assert.equal(r.rejectWith, 'tcp-reset');
      const d = only(run(filterInput('-A INPUT -j DROP'), 'INPUT'));
      assert.equal(d.verdict, 'DROP');
      assert.equal(d.rejectWith, undefined);
    });
    it('a loop is detected and stops with DROP and iptables.loop', () => {
      // The parser refuses the table as iptables-restore does (iptables.syntax at the jump that closes the loop);
      // the evaluator still stops safely on what was read.
      const text = filterInput('-A INPUT -j A\n-A A -j B\n-A B -j A');
      const parsed = parseIptablesSave(text, 'test.rules', 0);
      assert.deepEqual(
        parsed.problems.map((p) => [p.code, text.slice(p.span.start, p.span.end)]),
        [['iptables.syntax', '-j A']],
      );
      assert.match(parsed.problems[0].message, /loop of chains \(A -> B -> A\)/);
      const r = evaluateHook(parsed.ruleset, 'INPUT', PKT, CTX);
      const o = only(r);
      assert.equal(o.verdict, 'DROP');
      assert.deepEqual(
        r.problems.map((p) => p.code),
        ['iptables.loop'],
      );
    });
    it('deep nesting is bounded by maxDepth', () => {
      const n = 10;
      const decl = Array.from({ length: n }, (_, i) => `:C${i} - [0:0]`).join('\n');
      const rules = Array.from({ length: n - 1 }, (_, i) => `-A C${i} -j C${i + 1}`).join('\n');
      const text = `*filter\n${decl}\n-A INPUT -j C0\n${rules}\nCOMMIT\n`;
      assert.equal(only(run(text, 'INPUT')).verdict, 'ACCEPT');
      const r = run(text, 'INPUT', {}, { maxDepth: 5 });
      assert.equal(only(r).verdict, 'DROP');
      assert.deepEqual(
        r.problems.map((p) => p.code),
        ['iptables.depth'],
      );
    });
    it('the number of rules visited is bounded by maxSteps', () => {
      const rules = Array.from({ length: 20 }, () => '-A INPUT -j LOG').join('\n');
      const r = run(filterInput(rules), 'INPUT', {}, { maxSteps: 10 });
      assert.equal(only(r).verdict, 'DROP');
      assert.deepEqual(
        r.problems.map((p) => p.code),
        ['iptables.steps'],
      );
    });
    it('reports an unsupported rule when reached and treats it as not matching', () => {
      const text = '*filter\n:INPUT ACCEPT [0:0]\n-A INPUT -m geoip --src-cc FR -j DROP\nCOMMIT\n';
      const parsed = parseIptablesSave(text, 'f', 0);
      assert.deepEqual(
        parsed.problems.map((p) => p.code),
        ['iptables.unsupported'],
      );
      const r = evaluateHook(parsed.ruleset, 'INPUT', PKT, CTX);
      assert.equal(only(r).verdict, 'ACCEPT');
      assert.deepEqual(
        r.problems.map((p) => [p.code, text.slice(p.span.start, p.span.end)]),
        [['iptables.unsupported-reached', '-A INPUT -m geoip --src-cc FR -j DROP']],
      );
    });
    it('a packet with bad addresses gives one DROP outcome and a problem, no throw', () => {
      const r = run(filterInput(''), 'INPUT', { src: 'nonsense' });
      assert.equal(only(r).verdict, 'DROP');
      assert.deepEqual(
        r.problems.map((p) => p.code),
        ['iptables.bad-packet'],
      );
    });
  });

  describe('marks', () => {
    const cases: [target: string, before: number, after: number][] = [
      ['--or-mark 0x4000', 0x1, 0x4001],
      ['--xor-mark 0x4000', 0x4001, 0x1],
      ['--and-mark 0xff', 0x4001, 0x1],
      ['--set-xmark 0x4000/0x4000', 0x1, 0x4001],
      ['--set-xmark 0x0/0xffffffff', 0x4001, 0],
      ['--set-mark 0x2', 0x4001, 0x2],
      ['--set-mark 0x2/0xf', 0x4001, 0x4002],
    ];
    for (const [target, before, after] of cases) {
      it(`MARK ${target}: ${before.toString(16)} -> ${after.toString(16)}`, () => {
        const o = only(run(`*mangle\n-A PREROUTING -j MARK ${target}\nCOMMIT\n`, 'PREROUTING', { mark: before }));
        assert.equal(o.packet.mark, after);
      });
    }
    it('a mark set in one table is seen by a later one', () => {
      const text =
        '*mangle\n-A INPUT -j MARK --set-xmark 0x4000/0x4000\nCOMMIT\n*filter\n-A INPUT -m mark --mark 0x4000/0x4000 -j DROP\nCOMMIT\n';
      assert.equal(only(run(text, 'INPUT')).verdict, 'DROP');
    });
    it('CONNMARK save and restore', () => {
      const text =
        '*mangle\n-A PREROUTING -j MARK --set-mark 0x7\n-A PREROUTING -j CONNMARK --save-mark\n-A PREROUTING -j MARK --set-mark 0\n-A PREROUTING -m connmark --mark 0x7 -j CONNMARK --restore-mark\nCOMMIT\n';
      const o = only(run(text, 'PREROUTING'));
      assert.equal(o.packet.ctmark, 7);
      assert.equal(o.packet.mark, 7);
    });
  });

  describe('NAT', () => {
    it('DNAT rewrites the destination and records before/after with the rule', () => {
      const text =
        '*nat\n:KUBE-SEP-A - [0:0]\n-A PREROUTING -d 10.96.0.10 -p tcp --dport 80 -j KUBE-SEP-A\n-A KUBE-SEP-A -p tcp -j DNAT --to-destination 10.244.2.5:8080\nCOMMIT\n';
      const o = only(run(text, 'PREROUTING'));
      assert.equal(o.verdict, 'ACCEPT');
      assert.equal(o.packet.dst, '10.244.2.5');
      assert.equal(o.packet.dport, 8080);
      assert.equal(o.conntrack.dnat, true);
      assert.equal(o.nat.length, 1);
      const n = o.nat[0];
      assert.deepEqual(
        [n.type, n.table, n.chain, n.before, n.after],
        ['DNAT', 'nat', 'KUBE-SEP-A', { address: '10.96.0.10', port: 80 }, { address: '10.244.2.5', port: 8080 }],
      );
      assert.equal(text.slice(n.span.start, n.span.end), n.ruleText);
      assert.equal(n.ruleText, '-A KUBE-SEP-A -p tcp -j DNAT --to-destination 10.244.2.5:8080');
    });
    it('DNAT is terminating in the nat table', () => {
      const text =
        '*nat\n-A OUTPUT -j DNAT --to-destination 10.0.0.1\n-A OUTPUT -j DNAT --to-destination 10.0.0.2\nCOMMIT\n';
      const o = only(run(text, 'OUTPUT'));
      assert.equal(o.packet.dst, '10.0.0.1');
      assert.equal(o.packet.dport, 80);
    });
    it('IPv6 DNAT with [addr]:port', () => {
      const text = '*nat\n-A PREROUTING -j DNAT --to-destination [fd00::5]:8080\nCOMMIT\n';
      const o = only(run(text, 'PREROUTING', { family: 6, src: 'fd00::1', dst: 'fd00::a' }));
      assert.deepEqual([o.packet.dst, o.packet.dport], ['fd00::5', 8080]);
    });
    it('SNAT rewrites the source', () => {
      const o = only(run('*nat\n-A POSTROUTING -j SNAT --to-source 192.0.2.1\nCOMMIT\n', 'POSTROUTING'));
      assert.deepEqual(
        [o.packet.src, o.packet.sport, o.nat[0].type, o.conntrack.snat],
        ['192.0.2.1', 40000, 'SNAT', true],
      );
    });
    it('MASQUERADE takes the outgoing interface address', () => {
      const o = only(
        run(
          '*nat\n-A POSTROUTING -o eth0 -j MASQUERADE --random-fully\nCOMMIT\n',
          'POSTROUTING',
          { outIface: 'eth0' },
          { outIfaceAddress: '10.244.1.1' },
        ),
      );
      assert.equal(o.packet.src, '10.244.1.1');
      assert.deepEqual(o.nat[0].before, { address: '10.244.1.2', port: 40000 });
      assert.deepEqual(o.nat[0].after, { address: '10.244.1.1', port: 40000 });
    });
    it('MASQUERADE --to-ports sets the source port', () => {
      const o = only(run('*nat\n-A POSTROUTING -j MASQUERADE --to-ports 5000-6000\nCOMMIT\n', 'POSTROUTING'));
      assert.equal(o.packet.sport, 5000);
    });
    it('MASQUERADE without an address drops, with a problem', () => {
      const r = run('*nat\n-A POSTROUTING -j MASQUERADE\nCOMMIT\n', 'POSTROUTING', {}, { outIfaceAddress: undefined });
      assert.equal(only(r).verdict, 'DROP');
      assert.deepEqual(
        r.problems.map((p) => p.code),
        ['iptables.masquerade-no-address'],
      );
    });
    it('NOTRACK in raw makes nat skip the packet', () => {
      const text = '*raw\n-A OUTPUT -j NOTRACK\nCOMMIT\n*nat\n-A OUTPUT -j DNAT --to-destination 10.0.0.1\nCOMMIT\n';
      const o = only(run(text, 'OUTPUT'));
      assert.equal(o.packet.dst, PKT.dst);
      assert.equal(o.conntrack.state, 'UNTRACKED');
    });
    it('-m recent --set is recorded on the outcome', () => {
      const o = only(
        run('*nat\n-A PREROUTING -m recent --name S --set -j DNAT --to-destination 10.0.0.1\nCOMMIT\n', 'PREROUTING'),
      );
      assert.deepEqual(o.recentSet, [{ name: 'S', address: '10.244.1.2' }]);
    });
  });

  describe('statistic branches', () => {
    const kubeLike = (n: number) => {
      const seps = Array.from({ length: n }, (_, i) => `:SEP${i} - [0:0]`).join('\n');
      const svc = Array.from({ length: n }, (_, i) =>
        i < n - 1
          ? `-A SVC -m statistic --mode random --probability ${(1 / (n - i)).toFixed(10)} -j SEP${i}`
          : `-A SVC -j SEP${i}`,
      ).join('\n');
      const dnat = Array.from(
        { length: n },
        (_, i) => `-A SEP${i} -p tcp -j DNAT --to-destination 10.1.0.${i + 1}:80`,
      ).join('\n');
      return `*nat\n:SVC - [0:0]\n${seps}\n-A PREROUTING -j SVC\n${svc}\n${dnat}\nCOMMIT\n`;
    };
    for (const n of [1, 2, 3, 5, 7]) {
      it(`${n} backends: one outcome each, probability 1/${n}, summing to 1`, () => {
        const r = run(kubeLike(n), 'PREROUTING');
        assert.equal(r.outcomes.length, n);
        const dsts = r.outcomes.map((o) => o.packet.dst).sort();
        assert.deepEqual(dsts, Array.from({ length: n }, (_, i) => `10.1.0.${i + 1}`).sort());
        for (const o of r.outcomes)
          assert.ok(Math.abs(o.probability - 1 / n) < 1e-9, `${o.packet.dst}: ${o.probability}`);
        assert.ok(Math.abs(r.outcomes.reduce((s, o) => s + o.probability, 0) - 1) < 1e-9);
      });
    }
    it('records the statistic choices along the path', () => {
      const r = run(kubeLike(3), 'PREROUTING');
      const last = r.outcomes.find((o) => o.packet.dst === '10.1.0.3')!;
      const skipped = last.decisions.filter((d) => d.action === 'statistic not chosen');
      assert.equal(skipped.length, 2);
      assert.ok(Math.abs(skipped[0].probability! - 2 / 3) < 1e-9);
      assert.ok(Math.abs(skipped[1].probability! - 0.5) < 1e-9);
    });
    it('random policy "match" and "nomatch" give one outcome', () => {
      assert.equal(only(run(kubeLike(3), 'PREROUTING', {}, { random: 'match' })).packet.dst, '10.1.0.1');
      assert.equal(only(run(kubeLike(3), 'PREROUTING', {}, { random: 'nomatch' })).packet.dst, '10.1.0.3');
    });
    it('nth mode branches with 1/N', () => {
      const r = run(
        '*nat\n-A PREROUTING -m statistic --mode nth --every 4 --packet 0 -j DNAT --to-destination 10.0.0.9\nCOMMIT\n',
        'PREROUTING',
      );
      assert.equal(r.outcomes.length, 2);
      const hit = r.outcomes.find((o) => o.packet.dst === '10.0.0.9')!;
      assert.ok(Math.abs(hit.probability - 0.25) < 1e-12);
    });
    it('probabilities always sum to 1 (property)', () => {
      fc.assert(
        fc.property(fc.array(fc.integer({ min: 0, max: 1000 }), { minLength: 1, maxLength: 6 }), (ps) => {
          const rules = ps
            .map(
              (p, i) =>
                `-A PREROUTING -m statistic --mode random --probability ${(p / 1000).toFixed(3)} -j MARK --set-mark ${i + 1}`,
            )
            .join('\n');
          const r = evaluateHook(ruleset(`*mangle\n${rules}\nCOMMIT\n`), 'PREROUTING', PKT, CTX);
          const sum = r.outcomes.reduce((s, o) => s + o.probability, 0);
          return Math.abs(sum - 1) < 1e-9 && r.outcomes.every((o) => o.probability > 0);
        }),
      );
    });
  });
});

describe('long chains (looked up by destination and port)', () => {
  // A chain of 24 rules or more is indexed by destination address and port; what a packet meets must not change.
  const ADDRS = ['10.96.0.10', '10.96.0.11', '10.96.0.12'];
  const PORTS = [80, 443];
  type Spec = { d?: [string, boolean]; port?: number; proto: 'tcp' | 'udp'; accept: boolean; unsupported: boolean };
  const spec = fc.record({
    d: fc.option(fc.tuple(fc.constantFrom(...ADDRS, '10.96.0.0/24'), fc.boolean()), { nil: undefined }),
    port: fc.option(fc.constantFrom(...PORTS), { nil: undefined }),
    proto: fc.constantFrom('tcp' as const, 'udp' as const),
    accept: fc.integer({ min: 0, max: 9 }).map((n) => n === 0),
    unsupported: fc.integer({ min: 0, max: 9 }).map((n) => n === 0),
  });
  const text = (rules: Spec[]): string =>
    [
      '*filter',
      ':INPUT ACCEPT [0:0]',
      ':LONG - [0:0]',
      '-A INPUT -j LONG',
      ...rules.map((r, i) =>
        [
          '-A LONG',
          r.d ? `${r.d[1] ? '! ' : ''}-d ${r.d[0].includes('/') ? r.d[0] : `${r.d[0]}/32`}` : '',
          r.port !== undefined ? `-p ${r.proto} --dport ${r.port}` : '',
          r.unsupported ? '-m geoip --src-cc FR' : '',
          r.accept ? '-j ACCEPT' : `-j MARK --set-xmark ${i + 1}/0xffffffff`,
        ]
          .filter(Boolean)
          .join(' '),
      ),
      'COMMIT',
      '',
    ].join('\n');
  /** What the kernel does, rule by rule: the indices of the rules that match, up to the first ACCEPT. */
  const expected = (rules: Spec[], dst: string, dport: number): { matched: number[]; unsupported: number[] } => {
    const matched: number[] = [];
    const unsupported: number[] = [];
    for (const [i, r] of rules.entries()) {
      if (r.unsupported) {
        unsupported.push(i);
        continue;
      }
      if (r.d) {
        const hit = r.d[0].includes('/') ? dst.startsWith('10.96.0.') : r.d[0] === dst;
        if (hit === r.d[1]) continue;
      }
      if (r.port !== undefined && (r.proto !== 'tcp' || r.port !== dport)) continue;
      matched.push(i);
      if (r.accept) break;
    }
    return { matched, unsupported };
  };
  it('meets the same rules, in order, as a rule-by-rule walk (random chains of 24 to 80 rules)', () => {
    fc.assert(
      fc.property(
        fc.array(spec, { minLength: 24, maxLength: 80 }),
        fc.constantFrom(...ADDRS, '10.96.1.1'),
        fc.constantFrom(...PORTS, 8080),
        (rules, dst, dport) => {
          const parsed = parseIptablesSave(text(rules), 't', 0).ruleset;
          const r = evaluateHook(parsed, 'INPUT', { ...PKT, dst, dport }, CTX);
          assert.equal(r.outcomes.length, 1);
          const o = r.outcomes[0];
          const long = o.decisions.filter((d) => d.chain === 'LONG');
          const want = expected(rules, dst, dport);
          assert.deepEqual(
            long.filter((d) => d.matched).map((d) => d.ruleIndex),
            want.matched,
          );
          assert.deepEqual(
            long.filter((d) => d.effect === 'unsupported').map((d) => d.ruleIndex),
            want.unsupported,
          );
          const last = want.matched.filter((i) => !rules[i].accept).pop();
          assert.equal(o.packet.mark, last === undefined ? 0 : last + 1);
        },
      ),
      { numRuns: 200 },
    );
  });
});
