/**
 * The real-world corpus (issue 11): test/fixtures/real-world/<case>/ holds manifests in the shapes users have —
 * kubectl dumps in YAML and JSON, Helm output, kind and kubeadm configs, a CNI's DaemonSet and ConfigMap, the
 * ip-masq-agent, CRDs and RBAC, the Kubernetes website's examples. Each case lints with no error and no warning,
 * unless the case's justified.json lists the finding (code, file, line) with the reason it is right.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { analysePaths, LineIndex } from '../../../src/core';
import { nodeFileHost } from '../../../src/cli/host';

const CORPUS = path.resolve(__dirname, '../../fixtures/real-world');

interface Justified {
  readonly code: string;
  readonly file: string;
  readonly line: number;
  readonly why: string;
}

describe('real-world corpus: no false alarms on the files users have', () => {
  const cases = fs.readdirSync(CORPUS).filter((d) => fs.statSync(path.join(CORPUS, d)).isDirectory());

  it('holds the shapes issue 11 names', () => {
    for (const name of [
      'kubectl-yaml',
      'kubectl-json',
      'helm-chart',
      'kind-configs',
      'kubeadm-config',
      'flannel',
      'crds-and-rbac',
      'kubeadm-v1beta4',
    ])
      assert.ok(cases.includes(name), name);
  });

  for (const name of cases) {
    it(name, async () => {
      const dir = path.join(CORPUS, name);
      const files = fs
        .readdirSync(dir)
        .filter((f) => /\.(ya?ml|json)$/.test(f) && f !== 'justified.json')
        .map((f) => path.join(dir, f));
      const a = await analysePaths(files, nodeFileHost);
      const texts = new Map(a.sources.map((s) => [s.path, s.text]));
      const found = a.diagnostics
        .filter((d) => d.severity === 'error' || d.severity === 'warning')
        .map((d) => ({
          code: d.code,
          file: path.relative(dir, d.span.file),
          line: new LineIndex(texts.get(d.span.file) ?? '').positionAt(d.span.start).line + 1,
        }));
      const justifiedFile = path.join(dir, 'justified.json');
      const justified = fs.existsSync(justifiedFile)
        ? (JSON.parse(fs.readFileSync(justifiedFile, 'utf8')) as Justified[])
        : [];
      for (const j of justified) assert.ok(j.why.length > 20, `${name}: say why ${j.code} is right`);
      assert.deepEqual(
        found,
        justified.map(({ code, file, line }) => ({ code, file, line })),
        a.diagnostics.map((d) => `${d.code}: ${d.message}`).join('\n'),
      );
      // Something of each case was read (a case NetPath silently skipped would prove nothing).
      assert.ok(
        a.parsed.some((p) => p.documents.length),
        `${name}: nothing read`,
      );
    });
  }

  it('the kubectl dump in YAML and in JSON give the same model', async () => {
    const model = async (file: string) => (await analysePaths([path.join(CORPUS, file)], nodeFileHost)).topology;
    const y = await model('kubectl-yaml/cluster-dump.yaml');
    const j = await model('kubectl-json/cluster-dump.json');
    const shape = (t: typeof y) => ({
      nodes: t.nodes.map((n) => [n.name, n.podCIDRs, n.interfaces.map((i) => i.addresses)]),
      pods: t.pods.map((p) => [p.id, p.node, p.ips, p.hostNetwork]),
      services: t.services.map((s) => [s.id, s.clusterIPs, s.endpoints.map((e) => e.ip)]),
    });
    assert.deepEqual(shape(j), shape(y));
    assert.equal(y.nodes.length, 3);
    assert.equal(y.services.find((s) => s.id === 'kube-system/kube-dns')?.endpoints.length, 2);
  });
});
