import {
  analyse,
  formatReachCsv,
  formatReachMarkdown,
  formatReachText,
  parsePodFilter,
  Reachability,
  type PolicyOptions,
  type ReachPort,
} from '../../core';
import { CliError, EXIT, type Command, quoted } from '../command';
import { loadOneTopology } from '../host';
import { LOAD_USAGE, loadOptions, readLoadOption, type ArgumentOptions, type Collected } from '../load-options';
import { isOneOf } from '../../core/lookup';

const USAGE = `Usage: netpath reach <file|folder>... [options]

Which pods may open connections to which, per port and protocol, under the cluster's NetworkPolicies
(egress at the source, ingress at the destination, as Kubernetes defines them). Pods that every policy
judges alike are shown as one group. hostNetwork pods are left out: policies do not select them.

Options:
  --port <n>[,<n>...]        ports to judge (default: every container port the destinations declare)
  --proto tcp|udp|sctp       protocol of --port (default tcp)
  --from <selector>          sources: pod/<ns>/<name>, ns/<name>, or [<ns>:]<label selector>
  --to <selector>            destinations, same syntax (e.g. --to 'prod:app in (web,api)')
  --ipblock-pod-ips match|ignore   whether ipBlock matches pod IPs (default match; see docs/network-policy.md)
  --node-traffic allow|policy      traffic between a pod and its own node (default allow)
  --format text|json|csv|markdown  text: groups and a grid per port (default); json: the matrix as data
${LOAD_USAGE}
  -h, --help                 show this help

Exit codes: 0 every shown pair allowed, 1 some pair blocked, 2 bad input.`;

const VALUED = ['--port', '--proto', '--from', '--to', '--format', '--ipblock-pod-ips', '--node-traffic'];

interface Args {
  readonly paths: string[];
  readonly opts: Record<string, string>;
  readonly load: ArgumentOptions;
}

function parse(args: readonly string[]): Args {
  const paths: string[] = [];
  const opts: Record<string, string> = {};
  const load: Collected = { allowOutside: [], maxFileSizeKB: undefined };
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    const loadOption = readLoadOption(args, i, load);
    if (loadOption) {
      i = loadOption.next;
      continue;
    }
    const eq = a.indexOf('=');
    const name = a.startsWith('--') && eq > 0 ? a.slice(0, eq) : a;
    if (VALUED.includes(name)) {
      const v = eq > 0 && a.startsWith('--') ? a.slice(eq + 1) : args[++i];
      if (v === undefined) throw new CliError(`${name} needs a value (see netpath reach --help)`);
      opts[name] = v;
    } else if (a.startsWith('-') && a !== '-')
      throw new CliError(`unknown option ${quoted(a)} (see netpath reach --help)`);
    else paths.push(a);
  }
  if (!paths.length) throw new CliError('reach needs at least one file or folder (see netpath reach --help)');
  return { paths, opts, load: loadOptions(load) };
}

/** The protocol as Kubernetes writes it, for the option's lower-case word. */
const PROTOCOL_OF = { tcp: 'TCP', udp: 'UDP', sctp: 'SCTP' } as const;

function oneOf<T extends string>(name: string, value: string | undefined, allowed: readonly T[]): T | undefined {
  if (value === undefined) return undefined;
  if (!isOneOf(allowed, value)) throw new CliError(`${name} ${quoted(value)}: use ${allowed.join(' or ')}`);
  return value;
}

export const reach: Command = {
  name: 'reach',
  summary: 'which pods may reach which, per port, under the NetworkPolicies (a matrix)',
  usage: USAGE,
  async run(args, io) {
    const { paths, opts, load } = parse(args);
    const format = oneOf('--format', opts['--format'], ['text', 'json', 'csv', 'markdown'] as const) ?? 'text';
    const proto = PROTOCOL_OF[oneOf('--proto', opts['--proto'], ['tcp', 'udp', 'sctp'] as const) ?? 'tcp'];
    let ports: ReachPort[] | undefined;
    if (opts['--port'] !== undefined) {
      ports = opts['--port'].split(',').map((p) => {
        const n = /^\d{1,5}$/.test(p.trim()) ? Number(p.trim()) : NaN;
        if (!(n >= 1 && n <= 65535)) throw new CliError(`--port ${quoted(p)} is not a port (1-65535)`);
        return { protocol: proto, port: n };
      });
    } else if (opts['--proto'] !== undefined) throw new CliError('--proto needs --port');
    const filter = (name: string) => {
      const text = opts[name];
      if (text === undefined) return undefined;
      const parsed = parsePodFilter(text);
      if ('error' in parsed) throw new CliError(`${name}: ${parsed.error}`);
      return parsed.filter;
    };
    const options: Partial<PolicyOptions> = {
      ...(opts['--ipblock-pod-ips'] !== undefined
        ? { ipBlockPodIPs: oneOf('--ipblock-pod-ips', opts['--ipblock-pod-ips'], ['match', 'ignore'] as const) }
        : {}),
      ...(opts['--node-traffic'] !== undefined
        ? { nodeTraffic: oneOf('--node-traffic', opts['--node-traffic'], ['allow', 'policy'] as const) }
        : {}),
    };
    const from = filter('--from');
    const to = filter('--to');
    // Read as lint reads (confined to the workspace, bounded); what was refused or left out goes to stderr.
    const loaded = await loadOneTopology('reach', paths, io, load);
    const { topology } = analyse(loaded.files, { parse: loaded.parse });
    const r = new Reachability(topology, {
      ...(ports ? { ports } : {}),
      ...(from ? { from } : {}),
      ...(to ? { to } : {}),
      options,
    });
    const m = r.matrix;
    if (!m.ports.length)
      throw new CliError('no destination declares a container port: give the ports to judge with --port');
    if (!m.sources.length || !m.destinations.length)
      throw new CliError(`no pod matches ${!m.sources.length ? '--from' : '--to'}`);
    io.out(
      format === 'json'
        ? `${JSON.stringify({ options: r.index.options, ...m }, null, 2)}\n`
        : format === 'csv'
          ? formatReachCsv(m)
          : format === 'markdown'
            ? formatReachMarkdown(m)
            : formatReachText(m),
    );
    return m.cells.every((c) => c.allowed) ? EXIT.ok : EXIT.findings;
  },
};
