/**
 * CNI configurations read into `cluster.cni` as if written in the NetPath format, each value with the span of the
 * line it came from: conflists, single .conf files, the JSON inside flannel's ConfigMap, Calico IPPools, kind's
 * disableDefaultCNI; and what their tools refuse (cni.config-invalid).
 */
import assert from 'node:assert/strict';
import { analyseYaml, codes, HEADER, spanText } from './helpers';

const KINDNET = `{
	"cniVersion": "0.3.1",
	"name": "kindnet",
	"plugins": [
	{
		"type": "ptp",
		"ipMasq": false,
		"ipam": {
			"type": "host-local",
			"dataDir": "/run/cni-ipam-state",
			"routes": [
				{ "dst": "0.0.0.0/0" }
			],
			"ranges": [
				[ { "subnet": "10.244.1.0/24" } ]
			]
		}
		,
		"mtu": 1500
	},
	{
		"type": "portmap",
		"capabilities": {
			"portMappings": true
		}
	}
	]
}
`;

const BRIDGE_CONF = `{
  "cniVersion": "0.4.0",
  "name": "mynet",
  "type": "bridge",
  "bridge": "mybr0",
  "isGateway": true,
  "ipMasq": true,
  "ipam": {
    "type": "host-local",
    "ranges": [
      [{"subnet": "10.22.1.0/24", "gateway": "10.22.1.1"}],
      [{"subnet": "fd00:22:1::/64"}]
    ]
  }
}
`;

const FLANNEL_CM = `kind: ConfigMap
apiVersion: v1
metadata:
  name: kube-flannel-cfg
  namespace: kube-flannel
  labels:
    app: flannel
data:
  cni-conf.json: |
    {
      "name": "cbr0",
      "cniVersion": "0.3.1",
      "plugins": [
        {
          "type": "flannel",
          "delegate": {
            "hairpinMode": true,
            "isDefaultGateway": true
          }
        },
        {
          "type": "portmap",
          "capabilities": {
            "portMappings": true
          }
        }
      ]
    }
  net-conf.json: |
    {
      "Network": "10.244.0.0/16",
      "Backend": {
        "Type": "vxlan",
        "VNI": 4096,
        "Port": 4789
      }
    }
`;

const POOLS = `apiVersion: projectcalico.org/v3
kind: IPPool
metadata:
  name: default-ipv4-ippool
spec:
  cidr: 192.168.0.0/16
  blockSize: 26
  ipipMode: Always
  natOutgoing: true
  nodeSelector: all()
---
apiVersion: crd.projectcalico.org/v1
kind: IPPool
metadata:
  name: edge
spec:
  cidr: 172.20.0.0/20
  vxlanMode: CrossSubnet
  disabled: true
`;

describe('model: CNI configurations', () => {
  it('a kindnet conflist: its network name, ptp ipMasq, host-local range and portmap, at their lines', () => {
    const a = analyseYaml({ '/n/etc/cni/net.d/10-kindnet.conflist': KINDNET });
    const cni = a.topology.cluster.cni;
    assert.equal(cni.network, 'kindnet');
    assert.equal(spanText(a, cni.spans.network), '"kindnet"');
    assert.equal(cni.ipMasq, false);
    assert.equal(spanText(a, cni.spans.ipMasq), 'false');
    assert.equal(cni.portmap.enabled, true);
    assert.equal(spanText(a, cni.portmap.spans.enabled), '"portmap"');
    assert.equal(cni.configs.length, 1);
    const ipam = cni.configs[0].ipam;
    assert.equal(ipam?.type, 'host-local');
    assert.deepEqual(
      ipam?.ranges.map((set) => set.map((r) => r.subnet)),
      [['10.244.1.0/24']],
    );
    assert.equal(spanText(a, ipam!.ranges[0][0].spans.subnet), '"10.244.1.0/24"');
    assert.deepEqual(
      ipam?.routes.map((r) => r.dst),
      ['0.0.0.0/0'],
    );
    assert.equal(cni.configs[0].mtu, 1500);
  });

  it('a single .conf of the bridge plug-in: bridge name, ipMasq, two range sets with a gateway', () => {
    const a = analyseYaml({ '/n/10-mynet.conf': BRIDGE_CONF });
    const cni = a.topology.cluster.cni;
    assert.equal(cni.plugin, 'bridge');
    assert.equal(cni.bridge, 'mybr0');
    assert.equal(spanText(a, cni.spans.bridge), '"mybr0"');
    assert.equal(cni.ipMasq, true);
    assert.equal(cni.hairpinMode, false, "the bridge plug-in's hairpinMode defaults to false");
    // No portmap in the chain: hostPorts are not opened.
    assert.equal(cni.portmap.enabled, false);
    const sets = cni.configs[0].ipam?.ranges ?? [];
    assert.deepEqual(
      sets.map((s) => s.map((r) => [r.subnet, r.gateway])),
      [[['10.22.1.0/24', '10.22.1.1']], [['fd00:22:1::/64', undefined]]],
    );
    assert.deepEqual(codes(a), [], 'the bridge plug-in is modelled: nothing to report');
  });

  it("flannel's ConfigMap: net-conf.json and cni-conf.json, with spans on the ConfigMap's own lines", () => {
    const a = analyseYaml({ '/n/kube-flannel.yaml': FLANNEL_CM });
    const cni = a.topology.cluster.cni;
    const f = cni.flannel;
    assert.ok(f);
    assert.deepEqual([f.network, f.subnetLen, f.backend, f.vni, f.port], ['10.244.0.0/16', 24, 'vxlan', 4096, 4789]);
    assert.equal(spanText(a, f.spans.Network), '"10.244.0.0/16"');
    assert.equal(spanText(a, f.spans['Backend.VNI']), '4096');
    assert.equal(spanText(a, f.spans['Backend.Port']), '4789');
    assert.equal(cni.network, 'cbr0');
    assert.equal(spanText(a, cni.spans.network), '"cbr0"');
    assert.equal(cni.hairpinMode, true);
    assert.equal(spanText(a, cni.spans.hairpinMode), 'true');
    assert.equal(cni.portmap.enabled, true);
    assert.equal(cni.portmap.origin, 'ConfigMap');
  });

  it("flannel's defaults: VNI 1, port 8472, SubnetLen 24 (or the Network's length + 2 past /22)", () => {
    const cm = (conf: string) =>
      `kind: ConfigMap\napiVersion: v1\nmetadata: {name: kube-flannel-cfg}\ndata:\n  net-conf.json: |\n    ${conf}\n`;
    const f = analyseYaml({ '/n/cm.yaml': cm('{"Network": "10.244.0.0/16", "Backend": {"Type": "vxlan"}}') }).topology
      .cluster.cni.flannel;
    assert.deepEqual([f?.vni, f?.port, f?.subnetLen], [1, 8472, 24]);
    const small = analyseYaml({ '/n/cm.yaml': cm('{"Network": "10.244.0.0/24", "Backend": {"Type": "host-gw"}}') })
      .topology.cluster.cni.flannel;
    assert.deepEqual([small?.subnetLen, small?.backend], [26, 'host-gw']);
  });

  it('Calico IPPools of both API groups, with their defaults', () => {
    const a = analyseYaml({ '/n/pools.yaml': POOLS });
    const pools = a.topology.cluster.cni.ipPools;
    assert.deepEqual(
      pools.map((p) => [p.name, p.cidr, p.blockSize, p.ipipMode, p.vxlanMode, p.natOutgoing, p.disabled]),
      [
        ['default-ipv4-ippool', '192.168.0.0/16', 26, 'Always', 'Never', true, false],
        ['edge', '172.20.0.0/20', 26, 'Never', 'CrossSubnet', false, true],
      ],
    );
    assert.equal(spanText(a, pools[0].spans.cidr), '192.168.0.0/16');
  });

  it('a NetPath document wins key by key over the configurations read', () => {
    const a = analyseYaml({
      '/n/topology.netpath.yaml': `${HEADER}cluster:\n  cni:\n    bridge: br-pods\n    portmap: {snat: false}\n`,
      '/n/10-mynet.conf': BRIDGE_CONF,
    });
    const cni = a.topology.cluster.cni;
    assert.equal(cni.bridge, 'br-pods');
    assert.equal(cni.ipMasq, true, 'not written in the NetPath document: from the .conf');
    assert.equal(cni.portmap.enabled, true);
    assert.equal(cni.portmap.snat, false);
  });

  it("without a conflist or cni.network, the network is the name the plug-in's installer writes", () => {
    // It names the plug-ins' chains (CNI-DN-<hash of network + container ID>): Calico's install writes
    // k8s-pod-network, kindnetd kindnet, kube-flannel.yml cbr0.
    const network = (plugin: string) =>
      analyseYaml({ '/n/topology.netpath.yaml': `${HEADER}cluster:\n  cni:\n    plugin: ${plugin}\n` }).topology.cluster
        .cni.network;
    assert.deepEqual(['calico', 'kindnet', 'flannel', 'bridge', 'ptp'].map(network), [
      'k8s-pod-network',
      'kindnet',
      'cbr0',
      'cbr0',
      'cbr0',
    ]);
    assert.equal(
      analyseYaml({ '/n/pools.yaml': POOLS }).topology.cluster.cni.network,
      'k8s-pod-network',
      'IPPools imply Calico',
    );
    const own = analyseYaml({
      '/n/topology.netpath.yaml': `${HEADER}cluster:\n  cni:\n    plugin: calico\n    network: mynet\n`,
    });
    assert.equal(own.topology.cluster.cni.network, 'mynet');
  });

  it('of several conflists the first by file name is used, as libcni takes the first file of net.d', () => {
    const a = analyseYaml({
      '/n/20-other.conflist': KINDNET.replace('"kindnet"', '"other"'),
      '/n/10-kindnet.conflist': KINDNET,
    });
    assert.equal(a.topology.cluster.cni.network, 'kindnet');
  });

  it('what the configurations imply and NetPath does not model yet is said at the line naming it', () => {
    const cases: { files: Record<string, string>; at: string; says: RegExp }[] = [
      { files: { '/n/10-kindnet.conflist': KINDNET }, at: '"ptp"', says: /ptp plug-in/ },
      { files: { '/n/kube-flannel.yaml': FLANNEL_CM }, at: '"flannel"', says: /flannel \(vxlan backend\)/ },
      { files: { '/n/pools.yaml': POOLS }, at: 'default-ipv4-ippool', says: /Calico \(IPIP encapsulation\)/ },
      {
        files: {
          '/n/kind.yaml': 'kind: Cluster\napiVersion: kind.x-k8s.io/v1alpha4\nnodes: [{role: control-plane}]\n',
        },
        at: 'kind: Cluster',
        says: /kindnet/,
      },
      {
        files: {
          '/n/kind.yaml': 'kind: Cluster\napiVersion: kind.x-k8s.io/v1alpha4\nnetworking:\n  disableDefaultCNI: true\n',
        },
        at: 'true',
        says: /cannot know how pods are wired/,
      },
    ];
    for (const c of cases) {
      const a = analyseYaml(c.files);
      const found = a.diagnostics.filter((d) => d.code === 'cni.plugin-unmodelled');
      if (found.length === 0) {
        // The plug-in's model exists: the configuration selects it, and `cluster.cni.plugin` points at its line.
        const cni = a.topology.cluster.cni;
        assert.notEqual(cni.plugin, 'bridge', Object.keys(c.files)[0]);
        assert.ok(spanText(a, cni.spans.plugin).startsWith(c.at), `${spanText(a, cni.spans.plugin)} at ${c.at}`);
        continue;
      }
      assert.equal(found.length, 1, Object.keys(c.files)[0]);
      assert.ok(spanText(a, found[0].span).startsWith(c.at), `${spanText(a, found[0].span)} at ${c.at}`);
      assert.match(found[0].message, c.says);
    }
    // A NetPath document that names the plug-in settles it.
    const named = analyseYaml({
      '/n/topology.netpath.yaml': `${HEADER}cluster:\n  cni:\n    plugin: bridge\n`,
      '/n/kube-flannel.yaml': FLANNEL_CM,
    });
    assert.ok(!codes(named).includes('cni.plugin-unmodelled'));
  });

  it('cni.config-invalid: what the tools refuse, at the value', () => {
    const table: { name: string; files: Record<string, string>; at: string }[] = [
      {
        name: 'a conflist without a name',
        files: { '/n/a.conflist': '{"cniVersion": "1.0.0", "plugins": [{"type": "bridge"}]}' },
        at: '{"cniVersion"',
      },
      {
        name: 'a plug-in without a type',
        files: { '/n/a.conflist': '{"cniVersion": "1.0.0", "name": "x", "plugins": [{"bridge": "cni0"}]}' },
        at: '{"bridge"',
      },
      {
        name: 'a host-local range without subnet',
        files: {
          '/n/a.conflist':
            '{"cniVersion": "1.0.0", "name": "x", "plugins": [{"type": "bridge", "ipam": {"type": "host-local", "ranges": [[{"gateway": "10.0.0.1"}]]}}]}',
        },
        at: '{"gateway"',
      },
      {
        name: 'portmap markMasqBit out of range',
        files: {
          '/n/a.conflist':
            '{"cniVersion": "1.0.0", "name": "x", "plugins": [{"type": "bridge"}, {"type": "portmap", "markMasqBit": 40}]}',
        },
        at: '40',
      },
      {
        name: 'flannel SubnetLen that leaves room for fewer than four subnets',
        files: {
          '/n/cm.yaml':
            'kind: ConfigMap\napiVersion: v1\nmetadata: {name: kube-flannel-cfg}\ndata:\n  net-conf.json: |\n    {"Network": "10.244.0.0/16", "SubnetLen": 17}\n',
        },
        at: '17',
      },
      {
        name: 'an IPPool with IPIP and VXLAN both on',
        files: {
          '/n/p.yaml':
            'apiVersion: projectcalico.org/v3\nkind: IPPool\nmetadata: {name: p}\nspec:\n  cidr: 10.0.0.0/16\n  ipipMode: Always\n  vxlanMode: Always\n',
        },
        at: 'Always\n',
      },
      {
        name: 'an IPPool blockSize out of range',
        files: {
          '/n/p.yaml':
            'apiVersion: projectcalico.org/v3\nkind: IPPool\nmetadata: {name: p}\nspec:\n  cidr: 10.0.0.0/16\n  blockSize: 18\n',
        },
        at: '18',
      },
    ];
    for (const row of table) {
      const a = analyseYaml(row.files);
      const found = a.diagnostics.filter((d) => d.code === 'cni.config-invalid');
      assert.equal(found.length, 1, `${row.name}: ${codes(a).join(', ')}`);
      const text = spanText(a, found[0].span);
      assert.ok(
        text.startsWith(row.at.trimEnd()) || row.at.startsWith(text),
        `${row.name}: reported at ${JSON.stringify(text)}`,
      );
    }
  });

  it("a host-local range's gateway for a node's pod CIDR is that node's bridge address", () => {
    const nodes =
      'apiVersion: v1\nkind: Node\nmetadata: {name: n1}\nspec: {podCIDR: 10.22.1.0/24}\nstatus: {addresses: [{type: InternalIP, address: 192.168.1.11}]}\n';
    const a = analyseYaml({
      '/n/nodes.yaml': nodes,
      '/n/10-mynet.conf': BRIDGE_CONF.replace('"gateway": "10.22.1.1"', '"gateway": "10.22.1.254"'),
    });
    assert.deepEqual(a.topology.nodes[0].bridge?.addresses, ['10.22.1.254/24']);
    assert.equal(a.topology.nodes[0].bridge?.name, 'mybr0');
  });
});
