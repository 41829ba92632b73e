import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  evaluateNftHook,
  nftHookChains,
  nftIngressChains,
  nftBridgeChains,
  parseNftRuleset,
  type NftEvalContext,
  type NftPacket,
} from '../../../src/core/nftables';

/** A host firewall as `nft list ruleset` prints it, with an iptables-nft style nat table next to it. */
const HOST = `table inet filter {
	set blocked {
		type ipv4_addr
		flags interval
		elements = { 10.66.0.0/16, 192.0.2.7,
			     198.51.100.1-198.51.100.9 }
	}
	map svc {
		type ipv4_addr . inet_proto . inet_service : verdict
		elements = { 10.96.0.10 . udp . 53 : accept, 10.96.0.10 . tcp . 53 : jump dns }
	}
	chain input {
		type filter hook input priority filter; policy drop;
		ct state established,related accept
		ct state invalid drop
		iifname "lo" accept
		ip saddr @blocked counter packets 0 bytes 0 drop comment "blocklist"
		tcp dport { 22, 80, 443 } accept
		meta l4proto icmp accept
		ip daddr . meta l4proto . th dport vmap @svc
		log prefix "input drop: " level info
	}
	chain dns {
		ip saddr 10.0.0.0/8 return
		reject with tcp reset
	}
	chain forward {
		type filter hook forward priority 0; policy accept;
		iifname "veth*" oifname "eth0" accept
		goto fwd-deny
		accept
	}
	chain fwd-deny {
		ip daddr 203.0.113.0/24 drop
	}
}
table ip nat {
	chain POSTROUTING {
		type nat hook postrouting priority srcnat; policy accept;
		ip saddr 10.244.0.0/16 oifname "eth0" masquerade
	}
	chain PREROUTING {
		type nat hook prerouting priority dstnat; policy accept;
		ip daddr 192.0.2.10 tcp dport 8080 dnat to 10.244.1.5:80
	}
}
table ip early {
	chain pre {
		type filter hook prerouting priority raw - 10; policy accept;
		meta mark set meta mark | 0x00000100
	}
}
`;

const ctx = (over: Partial<NftEvalContext> = {}): NftEvalContext => ({
  localAddresses: ['192.0.2.1', '127.0.0.1'],
  conntrack: { state: 'NEW' },
  outIfaceAddress: '192.0.2.1',
  ...over,
});
const tcp = (src: string, dst: string, dport: number, over: Partial<NftPacket> = {}): NftPacket => ({
  family: 4,
  proto: 'tcp',
  src,
  dst,
  sport: 40000,
  dport,
  mark: 0,
  inIface: 'eth0',
  ...over,
});

describe('nftables: parse', () => {
  const { ruleset, problems } = parseNftRuleset(HOST, 'host.nft');

  it('reads every table, base chain, set and map of nft list ruleset output', () => {
    assert.deepEqual(problems, []);
    assert.deepEqual(
      ruleset.tables.map((t) => `${t.family} ${t.name}`),
      ['inet filter', 'ip nat', 'ip early'],
    );
    const filter = ruleset.tables[0];
    assert.deepEqual(filter.chains.get('input')?.base, {
      type: 'filter',
      hook: 'input',
      priority: 0,
      policy: 'drop',
      text: 'type filter hook input priority filter',
      span: filter.chains.get('input')?.base?.span,
    });
    assert.equal(filter.sets.get('blocked')?.elements.length, 3);
    assert.deepEqual(filter.sets.get('svc')?.keyType, ['ipv4_addr', 'inet_proto', 'inet_service']);
    assert.equal(ruleset.tables[2].chains.get('pre')?.base?.priority, -310);
    assert.equal(ruleset.tables[1].chains.get('POSTROUTING')?.base?.priority, 100);
  });

  it('keeps each rule’s text and comment, with its span in the file', () => {
    const rule = ruleset.tables[0].chains.get('input')?.rules[3];
    assert.equal(rule?.text, 'ip saddr @blocked counter packets 0 bytes 0 drop');
    assert.equal(rule?.comment, 'blocklist');
    assert.equal(
      HOST.slice(rule?.span.start, rule?.span.end),
      'ip saddr @blocked counter packets 0 bytes 0 drop comment "blocklist"',
    );
  });

  it('reports an unsupported expression at its line and keeps the rule, marked', () => {
    const text =
      'table ip t {\n\tchain c {\n\t\ttype filter hook input priority 0; policy accept;\n\t\tlimit rate 10/second accept\n\t\tip daddr 10.0.0.1 accept\n\t}\n}\n';
    const r = parseNftRuleset(text, 'x.nft');
    assert.equal(r.problems.length, 1);
    assert.equal(r.problems[0].code, 'nftables.unsupported');
    assert.equal(text.slice(r.problems[0].span.start, r.problems[0].span.end), 'limit rate 10/second accept');
    const rules = r.ruleset.tables[0].chains.get('c')?.rules ?? [];
    assert.equal(rules.length, 2);
    assert.ok(rules[0].unsupported);
    assert.equal(rules[1].unsupported, undefined);
  });

  it('reports syntax errors, unknown chains and sets at their span, and never throws', () => {
    const text =
      'table ip t {\n chain c {\n  ip daddr 10.0.0.300 accept\n  jump nowhere\n  ip saddr @nope drop\n }\n}\nbogus line\ntable ip u {\n';
    const r = parseNftRuleset(text, 'x.nft');
    const codes = r.problems.map((p) => `${p.code}:${text.slice(p.span.start, p.span.end)}`);
    assert.ok(codes.includes('nftables.syntax:10.0.0.300'), codes.join('\n'));
    assert.ok(codes.includes('nftables.unknown-chain:jump nowhere'), codes.join('\n'));
    assert.ok(codes.includes('nftables.unknown-set:ip saddr @nope drop'), codes.join('\n'));
    assert.ok(codes.includes('nftables.syntax:bogus'), codes.join('\n'));
    assert.ok(r.problems.some((p) => p.message.includes("'ip u' is not closed")));
    for (const junk of [
      '{{{',
      '}',
      'table',
      'table ip',
      'add rule',
      '"',
      'chain x {',
      'table ip t { set s { type x; elements = { ,, } } }',
    ])
      assert.doesNotThrow(() => parseNftRuleset(junk));
  });

  it('reads the add commands of an nft -f script into the same structure', () => {
    const r = parseNftRuleset(
      [
        'add table ip t { comment "x" ; }',
        'add chain ip t in { type filter hook input priority -110 ; }',
        'add chain ip t other',
        'add map ip t m { type inet_proto . inet_service : verdict ; }',
        'add rule ip t in meta l4proto . th dport vmap @m',
        'add element ip t m { tcp . 80 comment "web" : goto other }',
        'add rule ip t other drop',
      ].join('\n'),
    );
    assert.deepEqual(r.problems, []);
    const t = r.ruleset.tables[0];
    assert.equal(t.chains.get('in')?.base?.priority, -110);
    assert.equal(t.sets.get('m')?.elements[0].comment, 'web');
    const out = evaluateNftHook(r.ruleset, 'input', tcp('1.1.1.1', '192.0.2.1', 80), ctx());
    assert.equal(out.outcomes[0].verdict, 'DROP');
  });
});

describe('nftables: families traces do not run', () => {
  it('reads netdev devices, and reports arp and egress base chains as not evaluated, at their type line (bridge ones are evaluated)', () => {
    const text = `table netdev edge {
  chain in {
    type filter hook ingress device "eth0" priority 0; policy accept;
  }
  chain many {
    type filter hook ingress priority -10; devices = { eth1, "veth0" }; policy accept;
  }
  chain out {
    type filter hook egress device eth0 priority 0;
  }
}
table bridge br {
  chain fwd {
    type filter hook forward priority filter; policy drop;
    ip saddr 10.244.1.10 accept
  }
}
table arp a {
  chain in {
    type filter hook input priority 0; policy accept;
  }
}
table inet fw {
  chain in {
    type filter hook input priority 0; policy accept;
  }
}
`;
    const { ruleset, problems } = parseNftRuleset(text, 'f.nft');
    const edge = ruleset.tables[0];
    assert.deepEqual(edge.chains.get('in')?.base?.devices, ['eth0']);
    assert.deepEqual(edge.chains.get('many')?.base?.devices, ['eth1', 'veth0']);
    assert.deepEqual(
      problems.map((p) => [p.code, p.severity, text.slice(p.span.start, p.span.end).split(';')[0]]),
      [
        ['nftables.not-evaluated', 'warning', 'type filter hook egress device eth0 priority 0'],
        ['nftables.not-evaluated', 'warning', 'type filter hook input priority 0'],
      ],
    );
    assert.match(problems[1].message, /arp-family chains filter ARP/);
    // The bridge family's forward chain is evaluated (on bridged frames), so it is no problem.
    assert.deepEqual(
      nftBridgeChains(ruleset, 'forward').map((c) => `${c.table.name} ${c.chain.name} ${c.priority}`),
      ['br fwd -200'],
    );
  });

  it('bridge chains read the EtherType, the ports as iifname/oifname and the bridge as ibrname/obrname', () => {
    const text = `table bridge pods {
  chain forward {
    type filter hook forward priority filter; policy accept;
    ether type ip6 drop
    meta ibrname "cni0" iifname "veth1" oifname "veth2" ether type ip tcp dport 8080 drop
    ether saddr 02:00:00:00:00:01 drop
  }
}`;
    const { ruleset, problems } = parseNftRuleset(text, 'b.nft');
    // Ethernet addresses are not modelled: a problem at their rule, never ignored.
    assert.deepEqual(
      problems.map((p) => [p.code, text.slice(p.span.start, p.span.end)]),
      [['nftables.unsupported', 'ether saddr 02:00:00:00:00:01 drop']],
    );
    const chains = nftBridgeChains(ruleset, 'forward');
    const run = (over: Partial<NftPacket>) =>
      evaluateNftHook(ruleset, 'forward', tcp('10.244.1.10', '10.244.1.11', 8080, over), ctx(), chains).outcomes[0];
    const frame = { inIface: 'veth1', outIface: 'veth2', inBridge: 'cni0', outBridge: 'cni0' };
    assert.equal(run(frame).verdict, 'DROP');
    assert.equal(run(frame).decisions[0].ruleIndex, 1);
    assert.equal(run({ ...frame, inBridge: 'br1' }).verdict, 'ACCEPT');
    assert.equal(run({ ...frame, outIface: 'veth3' }).verdict, 'ACCEPT');
    const v6 = evaluateNftHook(
      ruleset,
      'forward',
      { ...tcp('fd00::a', 'fd00::b', 8080, frame), family: 6 },
      ctx(),
      chains,
    ).outcomes[0];
    assert.deepEqual([v6.verdict, v6.decisions[0].ruleIndex], ['DROP', 0]);
  });

  it('netdev ingress runs on the device the packet came in on, before prerouting; other devices never see it', () => {
    const { ruleset } = parseNftRuleset(`table netdev edge {
  chain in {
    type filter hook ingress device "eth0" priority 0; policy accept;
    ip saddr 192.168.56.100 drop
  }
}`);
    assert.deepEqual(
      nftIngressChains(ruleset, 'eth0').map((c) => c.chain.name),
      ['in'],
    );
    assert.deepEqual(nftIngressChains(ruleset, 'eth1'), []);
    const r = evaluateNftHook(
      ruleset,
      'ingress',
      tcp('192.168.56.100', '192.168.56.12', 30080),
      ctx(),
      nftIngressChains(ruleset, 'eth0'),
    );
    assert.deepEqual(
      r.outcomes.map((o) => o.verdict),
      ['DROP'],
    );
    assert.deepEqual(nftHookChains(ruleset, 'prerouting', 4), [], 'not an IP-family prerouting chain');
  });
});

describe('nftables: evaluate', () => {
  const { ruleset } = parseNftRuleset(HOST, 'host.nft');

  it('orders base chains of all tables on a hook by priority', () => {
    assert.deepEqual(
      nftHookChains(ruleset, 'prerouting', 4).map((c) => `${c.table.name}/${c.chain.name}`),
      ['early/pre', 'nat/PREROUTING'],
    );
    assert.deepEqual(
      nftHookChains(ruleset, 'input', 6).map((c) => c.chain.name),
      ['input'],
    );
  });

  it('runs the chains of several tables in turn: mark, then DNAT', () => {
    const r = evaluateNftHook(ruleset, 'prerouting', tcp('198.18.0.1', '192.0.2.10', 8080), ctx());
    assert.equal(r.outcomes.length, 1);
    const o = r.outcomes[0];
    assert.equal(o.verdict, 'ACCEPT');
    assert.equal(o.packet.mark, 0x100);
    assert.equal(o.packet.dst, '10.244.1.5');
    assert.equal(o.packet.dport, 80);
    assert.equal(o.conntrack.dnat, true);
    assert.deepEqual(
      o.decisions.map((d) => `${d.table} ${d.chain}: ${d.action}`),
      ['ip early pre: mark set 0x100', 'ip early pre: policy accept', 'ip nat PREROUTING: dnat to 10.244.1.5:80'],
    );
    assert.equal(o.nat[0].ruleText, 'ip daddr 192.0.2.10 tcp dport 8080 dnat to 10.244.1.5:80');
  });

  it('consults nat chains only for a new connection', () => {
    const r = evaluateNftHook(
      ruleset,
      'prerouting',
      tcp('198.18.0.1', '192.0.2.10', 8080),
      ctx({ conntrack: { state: 'ESTABLISHED' } }),
    );
    assert.equal(r.outcomes[0].packet.dst, '192.0.2.10');
  });

  const verdictOf = (p: NftPacket, c = ctx()) => evaluateNftHook(ruleset, 'input', p, c).outcomes.map((o) => o.verdict);

  it('ct state, interface names, interval sets, anonymous sets, protocols and the policy', () => {
    assert.deepEqual(
      verdictOf(tcp('8.8.8.8', '192.0.2.1', 22, { inIface: 'eth0' }), ctx({ conntrack: { state: 'ESTABLISHED' } })),
      ['ACCEPT'],
    );
    assert.deepEqual(verdictOf(tcp('8.8.8.8', '192.0.2.1', 22), ctx({ conntrack: { state: 'INVALID' } })), ['DROP']);
    assert.deepEqual(verdictOf(tcp('127.0.0.1', '127.0.0.1', 9999, { inIface: 'lo' })), ['ACCEPT']);
    assert.deepEqual(verdictOf(tcp('10.66.3.4', '192.0.2.1', 22)), ['DROP']);
    assert.deepEqual(verdictOf(tcp('198.51.100.5', '192.0.2.1', 22)), ['DROP']);
    assert.deepEqual(verdictOf(tcp('198.51.100.10', '192.0.2.1', 22)), ['ACCEPT']);
    assert.deepEqual(verdictOf(tcp('8.8.8.8', '192.0.2.1', 443)), ['ACCEPT']);
    assert.deepEqual(verdictOf(tcp('8.8.8.8', '192.0.2.1', 8443)), ['DROP']);
    assert.deepEqual(verdictOf({ family: 4, proto: 'icmp', src: '8.8.8.8', dst: '192.0.2.1', mark: 0 }), ['ACCEPT']);
    const drop = evaluateNftHook(ruleset, 'input', tcp('8.8.8.8', '192.0.2.1', 8443), ctx()).outcomes[0];
    assert.deepEqual(
      drop.decisions.map((d) => d.action),
      ['match', 'policy drop'],
    );
    assert.equal(drop.decisions[0].ruleText, 'log prefix "input drop: " level info');
  });

  it('concatenated verdict maps; jump and return; reject', () => {
    const udp = {
      family: 4 as const,
      proto: 'udp',
      src: '8.8.8.8',
      dst: '10.96.0.10',
      sport: 5000,
      dport: 53,
      mark: 0,
    };
    assert.deepEqual(verdictOf(udp), ['ACCEPT']);
    // tcp 53 jumps to dns: 10/8 returns (then falls to the log rule and the drop policy), others are rejected.
    assert.deepEqual(verdictOf(tcp('10.1.1.1', '10.96.0.10', 53)), ['DROP']);
    const rej = evaluateNftHook(ruleset, 'input', tcp('8.8.8.8', '10.96.0.10', 53), ctx()).outcomes[0];
    assert.equal(rej.verdict, 'REJECT');
    assert.deepEqual(
      rej.decisions.map((d) => `${d.chain}: ${d.action}`),
      ['input: jump dns', 'dns: reject'],
    );
  });

  it('goto does not come back: the end of the goto target ends the calling base chain with its policy', () => {
    const fwd = (dst: string, iif = 'eth1') =>
      evaluateNftHook(ruleset, 'forward', tcp('10.244.1.2', dst, 80, { inIface: iif, outIface: 'eth0' }), ctx())
        .outcomes[0];
    assert.equal(fwd('203.0.113.5').verdict, 'DROP');
    const o = fwd('198.18.0.9');
    assert.equal(o.verdict, 'ACCEPT');
    assert.deepEqual(
      o.decisions.map((d) => `${d.chain}: ${d.action}`),
      ['forward: goto fwd-deny', 'forward: policy accept'],
    );
    assert.deepEqual(
      fwd('198.18.0.9', 'veth12ab').decisions.map((d) => d.action),
      ['accept'],
    );
  });

  it('masquerade uses the outgoing interface address', () => {
    const o = evaluateNftHook(ruleset, 'postrouting', tcp('10.244.1.2', '198.18.0.9', 80, { outIface: 'eth0' }), ctx())
      .outcomes[0];
    assert.equal(o.packet.src, '192.0.2.1');
    assert.equal(o.nat[0].type, 'MASQUERADE');
  });

  it('numgen random branches with the share of each value, and the shares sum to 1', () => {
    const r = parseNftRuleset(`table ip lb {
  chain pre {
    type nat hook prerouting priority dstnat; policy accept;
    ip daddr 10.96.0.1 numgen random mod 4 vmap { 0 : goto a, 1-2 : goto b }
  }
  chain a { dnat to 10.0.0.1 }
  chain b { dnat to 10.0.0.2 }
}`);
    assert.deepEqual(r.problems, []);
    const out = evaluateNftHook(r.ruleset, 'prerouting', tcp('1.1.1.1', '10.96.0.1', 80), ctx()).outcomes;
    assert.deepEqual(out.map((o) => [o.packet.dst, o.probability]).sort(), [
      ['10.0.0.1', 0.25],
      ['10.0.0.2', 0.5],
      ['10.96.0.1', 0.25],
    ]);
  });

  it('an unsupported rule reached is reported and does not match; a loop drops', () => {
    const r = parseNftRuleset(`table ip t {
  chain in { type filter hook input priority 0; policy accept; limit rate 1/second drop; jump a }
  chain a { jump b }
  chain b { jump a }
}`);
    const out = evaluateNftHook(r.ruleset, 'input', tcp('1.1.1.1', '192.0.2.1', 80), ctx());
    assert.equal(out.outcomes[0].verdict, 'DROP');
    assert.deepEqual(out.problems.map((p) => p.code).sort(), ['nftables.loop', 'nftables.unsupported-reached']);
  });

  it('IPv6 packets see ip6 and inet tables only; ip matches never match them', () => {
    const r = parseNftRuleset(`table ip t { chain c { type filter hook input priority 0; policy drop; } }
table ip6 t6 { chain c { type filter hook input priority 0; policy accept; ip6 saddr fd00::/8 drop } }`);
    const p6 = (src: string) =>
      evaluateNftHook(r.ruleset, 'input', { family: 6, proto: 'tcp', src, dst: 'fd00::1', dport: 80, mark: 0 }, ctx())
        .outcomes[0].verdict;
    assert.equal(p6('fd00::5'), 'DROP');
    assert.equal(p6('2001:db8::5'), 'ACCEPT');
  });
});

describe('nftables: what nft itself prints', () => {
  it('reads kube-proxy’s table as nft 1.0.6 lists it (named priorities, `meta mark & …`) and load-balances 50/50', () => {
    const text = readFileSync(join(__dirname, '../../fixtures/kubeproxy-nft/listed-by-nft.nft'), 'utf8');
    const r = parseNftRuleset(text, 'listed.nft');
    assert.deepEqual(r.problems, []);
    assert.equal(r.ruleset.tables[0].chains.get('filter-prerouting-pre-dnat')?.base?.priority, -110);
    const out = evaluateNftHook(
      r.ruleset,
      'prerouting',
      {
        family: 4,
        proto: 'tcp',
        src: '10.244.2.5',
        dst: '10.96.0.10',
        sport: 1000,
        dport: 80,
        mark: 0,
        inIface: 'cni0',
      },
      { localAddresses: ['192.168.56.11'], conntrack: { state: 'NEW' } },
    ).outcomes;
    assert.deepEqual(out.map((o) => [o.packet.dst, o.packet.dport, o.probability]).sort(), [
      ['10.244.1.11', 8080, 0.5],
      ['10.244.2.10', 8080, 0.5],
    ]);
    // From outside the pod range the masquerade mark is set, then cleared and masqueraded at postrouting.
    const ext = evaluateNftHook(
      r.ruleset,
      'prerouting',
      {
        family: 4,
        proto: 'tcp',
        src: '192.168.56.1',
        dst: '10.96.0.10',
        sport: 1000,
        dport: 80,
        mark: 0,
        inIface: 'eth0',
      },
      { localAddresses: ['192.168.56.11'], conntrack: { state: 'NEW' } },
    ).outcomes[0];
    assert.equal(ext.packet.mark, 0x4000);
    const post = evaluateNftHook(r.ruleset, 'postrouting', ext.packet, {
      localAddresses: ['192.168.56.11'],
      conntrack: { state: 'NEW', dnat: true },
      outIfaceAddress: '10.244.1.1',
    }).outcomes[0];
    assert.equal(post.packet.src, '10.244.1.1');
    assert.equal(post.packet.mark, 0);
  });
});
