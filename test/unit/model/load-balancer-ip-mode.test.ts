/**
 * `status.loadBalancer.ingress[].ipMode` (issue 14): read from Service objects per ingress entry and from the NetPath
 * format's `loadBalancerIPMode`, with spans; anything but VIP or Proxy is reported at its line and read as VIP; and
 * kube-proxy's rules at a node (both modes) leave a Proxy IP out, as its Service tracker does (`proxyutil.IsVIPMode`).
 */
import assert from 'node:assert/strict';
import { kubeProxyNftablesText, kubeProxyRules } from '../../../src/core/dataplane/kube-proxy';
import { analyseYaml, HEADER, spanText } from './helpers';

const NODE = `apiVersion: v1
kind: Node
metadata: {name: worker}
spec: {podCIDR: 10.244.1.0/24}
status: {addresses: [{type: InternalIP, address: 172.18.0.3}]}
---
apiVersion: v1
kind: Pod
metadata: {name: web-0, namespace: shop, labels: {app: web}}
spec:
  nodeName: worker
  containers: [{name: nginx, ports: [{containerPort: 80}]}]
status: {podIP: 10.244.1.5}
`;

/** A LoadBalancer Service object with the given status ingress entries (YAML flow items). */
function lbService(ingress: string, name = 'web'): string {
  return `---
apiVersion: v1
kind: Service
metadata: {name: ${name}, namespace: shop}
spec:
  type: LoadBalancer
  clusterIP: 10.96.12.34
  selector: {app: web}
  ports: [{name: http, port: 80, targetPort: 80, nodePort: 31080}]
status:
  loadBalancer:
    ingress: [${ingress}]
`;
}

const svcOf = (a: ReturnType<typeof analyseYaml>, name = 'web') => {
  const s = a.topology.services.find((x) => x.name === name);
  assert.ok(s, `Service ${name} is in the model`);
  return s;
};

describe('model: load-balancer ipMode', () => {
  it('reads each ingress entry of a Service object with its ipMode (unset: VIP), spans on the written modes', () => {
    const a = analyseYaml({
      '/m/objects.yaml':
        NODE + lbService('{ip: 203.0.113.10, ipMode: Proxy}, {ip: 203.0.113.11}, {hostname: lb.example.com}'),
    });
    const web = svcOf(a);
    assert.deepEqual(web.loadBalancerIPs, ['203.0.113.10', '203.0.113.11']);
    assert.deepEqual(web.loadBalancerIPModes, ['Proxy', 'VIP']);
    const modeSpan = web.spans['loadBalancerIPModes.0'];
    assert.ok(modeSpan);
    assert.equal(spanText(a, modeSpan), 'Proxy');
    assert.equal(web.spans['loadBalancerIPModes.1'], undefined, 'no span for a mode not written');
    assert.deepEqual(
      a.diagnostics.filter((d) => d.code === 'k8s.service-invalid'),
      [],
    );
  });

  it('reports an ipMode other than VIP or Proxy on its line and reads it as VIP', () => {
    const text = NODE + lbService('{ip: 203.0.113.10, ipMode: proxy}');
    const a = analyseYaml({ '/m/objects.yaml': text });
    const found = a.diagnostics.filter((d) => d.code === 'k8s.service-invalid');
    assert.equal(found.length, 1, found.map((d) => d.message).join('\n'));
    assert.equal(spanText(a, found[0].span), 'proxy');
    assert.match(found[0].message, /ipMode 'proxy' is not VIP or Proxy/);
    assert.deepEqual(svcOf(a).loadBalancerIPModes, ['VIP']);
  });

  it("reads the NetPath format's loadBalancerIPMode for every load-balancer IP, with the key's span", () => {
    const a = analyseYaml(
      `${HEADER}services:\n  - name: web\n    type: LoadBalancer\n    loadBalancerIPs: [192.0.2.1, 192.0.2.2]\n    loadBalancerIPMode: Proxy\n    clusterIP: 10.96.0.10\n    ports: [{port: 80}]\n`,
    );
    const web = svcOf(a);
    assert.deepEqual(web.loadBalancerIPModes, ['Proxy', 'Proxy']);
    const modeSpan = web.spans['loadBalancerIPModes.1'];
    assert.ok(modeSpan);
    assert.equal(spanText(a, modeSpan), 'Proxy');
  });

  it('reports a NetPath loadBalancerIPMode other than VIP or Proxy at its value (schema)', () => {
    const a = analyseYaml(
      `${HEADER}services:\n  - name: web\n    type: LoadBalancer\n    loadBalancerIP: 192.0.2.1\n    loadBalancerIPMode: Passthrough\n    clusterIP: 10.96.0.10\n    ports: [{port: 80}]\n`,
    );
    const found = a.diagnostics.filter((d) => /loadBalancerIPMode/.test(d.message));
    assert.equal(found.length, 1, a.diagnostics.map((d) => `${d.code} ${d.message}`).join('\n'));
    assert.equal(found[0].severity, 'error');
    assert.equal(spanText(a, found[0].span), 'Passthrough');
    assert.deepEqual(svcOf(a).loadBalancerIPModes, ['VIP']);
  });

  it("a NetPath Service's loadBalancerIPMode gives the Service object's own ingress IPs their mode", () => {
    const a = analyseYaml({
      '/m/lab.netpath.yaml': `${HEADER}services:\n  - {name: web, namespace: shop, loadBalancerIPMode: Proxy}\n`,
      '/m/objects.yaml': NODE + lbService('{ip: 203.0.113.10}, {ip: 203.0.113.11, ipMode: VIP}'),
    });
    const web = svcOf(a);
    assert.deepEqual(web.loadBalancerIPs, ['203.0.113.10', '203.0.113.11']);
    assert.deepEqual(web.loadBalancerIPModes, ['Proxy', 'Proxy']);
  });

  it("leaves a Proxy IP out of the node's kube-proxy rules in iptables and nftables mode, keeps a VIP one", () => {
    const objects =
      NODE +
      lbService('{ip: 203.0.113.10, ipMode: Proxy}') +
      lbService('{ip: 203.0.113.20, ipMode: VIP}', 'web-vip').replace('10.96.12.34', '10.96.12.35');
    const a = analyseYaml({ '/m/objects.yaml': objects });
    const node = a.topology.nodes[0];
    assert.ok(node);
    const iptables = kubeProxyRules(a.topology, node);
    assert.doesNotMatch(iptables, /203\.0\.113\.10/);
    assert.match(
      iptables,
      /-A KUBE-SERVICES -m comment --comment "shop\/web-vip:http loadbalancer IP" -m tcp -p tcp -d 203\.0\.113\.20 --dport 80 -j KUBE-EXT-/,
    );
    // The Proxy-only Service keeps its NodePort: the load balancer usually connects there.
    assert.match(
      iptables,
      /-A KUBE-NODEPORTS -m comment --comment shop\/web:http -m tcp -p tcp --dport 31080 -j KUBE-EXT-/,
    );
    const nft = kubeProxyNftablesText(a.topology, node);
    assert.doesNotMatch(nft, /203\.0\.113\.10/);
    assert.match(nft, /203\.0\.113\.20 \. tcp \. 80 : goto external-\w+-shop\/web-vip\/tcp\/http/);
  });
});
