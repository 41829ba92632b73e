/**
 * The NetworkPolicy choices where Kubernetes leaves the behaviour to the plug-in (docs/network-policy.md), as
 * the editor applies them: the `netpath.networkPolicy.*` settings go into every analysis (the core keeps them
 * in the model, under the topology's own `cluster.networkPolicy`, which wins); the views read the result.
 */
import * as vscode from 'vscode';
import { policyChoices, type PolicyOptions, type Topology } from '../core';
import type { ReachOptions } from './reach-data';

/** The settings someone set (a default left alone is not a choice: the topology or NetPath's default apply). */
export function policySettings(scope?: vscode.Uri): Partial<PolicyOptions> {
  const config = vscode.workspace.getConfiguration('netpath.networkPolicy', scope);
  const set = (key: string): unknown => {
    const i = config.inspect(key);
    return i?.workspaceFolderValue ?? i?.workspaceValue ?? i?.globalValue;
  };
  const ipb = set('ipBlockPodIPs');
  const node = set('nodeTraffic');
  return {
    ...(ipb === 'match' || ipb === 'ignore' ? { ipBlockPodIPs: ipb } : {}),
    ...(node === 'allow' || node === 'policy' ? { nodeTraffic: node } : {}),
  };
}

/** The choices in effect in an analysed topology, with where each comes from. */
export function reachOptions(topology: Topology): ReachOptions {
  const c = policyChoices(topology);
  return { policy: c.options, source: c.source };
}
