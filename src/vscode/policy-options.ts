/**
 * The NetworkPolicy choices where Kubernetes leaves the behaviour to the plug-in (docs/network-policy.md), as
 * the editor applies them: a topology that declares them wins; otherwise the `netpath.networkPolicy.*` settings;
 * otherwise NetPath's defaults (the upstream conformance tests' reading).
 */
import * as vscode from 'vscode';
import { declaredPolicyOptions, DEFAULT_POLICY_OPTIONS, type PolicyOptions, type Topology } from '../core';
import type { ReachOptions } from './reach-data';

export function reachOptions(topology: Topology, scope: vscode.Uri): ReachOptions {
  const config = vscode.workspace.getConfiguration('netpath.networkPolicy', scope);
  // Only a value someone set counts as the setting's (the declared default is NetPath's default anyway).
  const set = (key: string): unknown => {
    const i = config.inspect(key);
    return i?.workspaceFolderValue ?? i?.workspaceValue ?? i?.globalValue;
  };
  const ipb = set('ipBlockPodIPs');
  const node = set('nodeTraffic');
  const setting: Partial<PolicyOptions> = {
    ...(ipb === 'match' || ipb === 'ignore' ? { ipBlockPodIPs: ipb } : {}),
    ...(node === 'allow' || node === 'policy' ? { nodeTraffic: node } : {}),
  };
  const declared = declaredPolicyOptions(topology);
  const policy: PolicyOptions = { ...DEFAULT_POLICY_OPTIONS, ...setting, ...declared };
  const source =
    Object.keys(declared).length > 0 ? 'topology' : Object.keys(setting).length > 0 ? 'setting' : 'default';
  return { policy, source };
}
