/** Which YAML the editor treats as Kubernetes manifests to analyse (issue 11: workloads, Endpoints, policies). */
import assert from 'node:assert/strict';
import { looksLikeManifest } from '../../../src/core';

describe('workspace: files that look like manifests', () => {
  for (const kind of [
    'Service',
    'Endpoints',
    'Deployment',
    'StatefulSet',
    'DaemonSet',
    'CronJob',
    'NetworkPolicy',
    'Namespace',
  ])
    it(`a ${kind}`, () => assert.ok(looksLikeManifest(`apiVersion: v1\nkind: ${kind}\nmetadata: {name: x}\n`)));
  it('not RBAC, a CRD, or a Helm values file', () => {
    assert.ok(!looksLikeManifest('apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\n'));
    assert.ok(!looksLikeManifest('apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\n'));
    assert.ok(!looksLikeManifest('replicaCount: 1\nimage:\n  repository: nginx\n'));
  });
});
