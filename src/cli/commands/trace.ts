import {
  analyse,
  compileDataPlane,
  formatTraceText,
  traceFlow,
  type TraceInputError,
  type PolicyOptions,
  type TraceRequest,
} from '../../core';
import { CliError, EXIT, type Command, quoted } from '../command';
import { loadOneTopology } from '../host';
import { LOAD_USAGE, loadOptions, readLoadOption, type ArgumentOptions, type Collected } from '../load-options';
import { TRACE_PROTOCOLS } from '../../core/trace/types';
import { isOneOf } from '../../core/lookup';

const USAGE = `Usage: netpath trace <file|folder>... --from <endpoint> --to <endpoint> [options]

Follows one packet hop by hop through the topology's namespaces, veths, bridges, routes and each node's
netfilter rules (kube-proxy's, the CNI plugin's, the masquerade agent's and the node's own), and prints
every path it can take (one per load-balanced backend, with its probability).

Endpoints:
  pod/[<ns>/]<name>[:<container>]   a pod (as a destination :<port or container port name> is required)
  svc/[<ns>/]<name>:<port|name>     a Service's cluster IP and port
  node/<name>[:<port>]              a node (e.g. node/node1:30080 for a NodePort)
  external/<name>[:<port>]          a client outside the cluster
  <ip>[:<port>], [<ipv6>]:<port>    any address
  localhost:<port>                  destination only: container to container inside the source pod

Options:
  --from <endpoint>, --to <endpoint>
  --proto tcp|udp|sctp|icmp  default: the Service or container port's protocol, else tcp
  --sport <n>                source port (default 40000)
  --size <bytes>             the request packet's size (IP header included), sent with Don't Fragment set:
                             a device on the way with a smaller MTU drops it (frag-needed)
  --at node/<name>           where a bare source address that is no pod, node or external enters
  --reply                    also trace the answer back, through conntrack's reverse NAT
  --ipblock-pod-ips match|ignore   NetworkPolicy: whether ipBlock matches pod IPs (default match)
  --node-traffic allow|policy      NetworkPolicy: traffic between a pod and its own node (default allow)
  --format text|json         text: a hop table (default); json: the trace as data
  --wide                     text: one line per hop however long (default: fit the terminal's width)
  --verbose                  text: under each hop, the netfilter chain walk (hook, table, the chains jumped,
                             the statistic branches with their probability, the verdict)
${LOAD_USAGE}
  -h, --help                 show this help

Exit codes: 0 every path delivered, 1 some path not delivered, 2 bad input.`;

interface Args {
  readonly paths: string[];
  readonly request: TraceRequest;
  readonly json: boolean;
  readonly wide: boolean;
  readonly load: ArgumentOptions;
  readonly verbose: boolean;
}

function parse(args: readonly string[]): Args {
  const paths: string[] = [];
  const opts: Record<string, string> = {};
  let reply = false;
  let wide = false;
  const load: Collected = { allowOutside: [], maxFileSizeKB: undefined };
  let verbose = false;
  const valued = [
    '--from',
    '--to',
    '--proto',
    '--sport',
    '--size',
    '--at',
    '--format',
    '--ipblock-pod-ips',
    '--node-traffic',
  ];
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    const loadOption = readLoadOption(args, i, load);
    if (loadOption) {
      i = loadOption.next;
      continue;
    }
    const eq = a.indexOf('=');
    const name = a.startsWith('--') && eq > 0 ? a.slice(0, eq) : a;
    if (valued.includes(name)) {
      const v = eq > 0 && a.startsWith('--') ? a.slice(eq + 1) : args[++i];
      if (v === undefined) throw new CliError(`${name} needs a value (see netpath trace --help)`);
      opts[name] = v;
    } else if (a === '--reply') reply = true;
    else if (a === '--wide') wide = true;
    else if (a === '--verbose') verbose = true;
    else if (a.startsWith('-') && a !== '-')
      throw new CliError(`unknown option ${quoted(a)} (see netpath trace --help)`);
    else paths.push(a);
  }
  if (!paths.length) throw new CliError('trace needs at least one file or folder (see netpath trace --help)');
  if (!opts['--from'] || !opts['--to'])
    throw new CliError('trace needs --from <endpoint> and --to <endpoint> (see netpath trace --help)');
  const proto = opts['--proto'];
  if (proto !== undefined && !isOneOf(TRACE_PROTOCOLS, proto))
    throw new CliError(`unknown protocol ${quoted(proto)}: use tcp, udp, sctp or icmp`);
  const format = opts['--format'] ?? 'text';
  if (format !== 'text' && format !== 'json') throw new CliError(`unknown format ${quoted(format)}: use text or json`);
  const sportText = opts['--sport'];
  const sport = sportText === undefined ? undefined : /^\d{1,5}$/.test(sportText) ? Number(sportText) : NaN;
  if (sport !== undefined && !(sport >= 1 && sport <= 65535))
    throw new CliError(`--sport ${quoted(sportText)} is not a port (1-65535)`);
  const sizeText = opts['--size'];
  const size = sizeText === undefined ? undefined : /^\d{1,5}$/.test(sizeText) ? Number(sizeText) : NaN;
  if (size !== undefined && !(size >= 68 && size <= 65535))
    throw new CliError(`--size ${quoted(sizeText)} is not an IP packet size in bytes (68-65535)`);
  return {
    paths,
    load: loadOptions(load),
    json: format === 'json',
    wide,
    verbose,
    request: {
      from: opts['--from'],
      to: opts['--to'],
      ...(proto ? { proto } : {}),
      ...(sport !== undefined ? { sport } : {}),
      ...(size !== undefined ? { size } : {}),
      ...(opts['--at'] ? { at: opts['--at'] } : {}),
      ...(reply ? { reply } : {}),
      ...policyOptions(opts),
    },
  };
}

/** The core's words about the request, with the flag they concern (the core never names flags). */
function flagged(e: TraceInputError): string {
  const hint = e.needs === 'at' ? ' Use --at node/<name>.' : '';
  return `--${e.field}: ${e.message}${hint}`;
}

export const trace: Command = {
  name: 'trace',
  summary: 'follow a packet hop by hop through namespaces, bridges, routes and iptables rules',
  usage: USAGE,
  async run(args, io) {
    const { paths, request, json, wide, verbose, load } = parse(args);
    const loaded = await loadOneTopology('trace', paths, io, load);
    const analysis = analyse(loaded.files, { parse: loaded.parse });
    const dp = compileDataPlane(analysis.topology, { files: new Map(loaded.files.map((f) => [f.path, f.text])) });
    const { result, problems, inputError } = traceFlow(analysis.topology, request, dp);
    if (!result)
      throw new CliError(
        inputError ? flagged(inputError) : (problems.find((p) => p.code === 'trace.bad-input')?.message ?? 'bad input'),
      );
    io.out(
      json
        ? `${JSON.stringify(result, null, 2)}\n`
        : formatTraceText(result, {
            width: wide ? undefined : io.terminal?.columns,
            color: io.terminal?.color ?? false,
            verbose,
          }),
    );
    return result.paths.length > 0 &&
      result.paths.every((p) => p.disposition === 'delivered' && (!p.reply || p.reply.disposition === 'delivered'))
      ? EXIT.ok
      : EXIT.findings;
  },
};

/** The NetworkPolicy choices where Kubernetes leaves the behaviour to the plugin (docs/network-policy.md). */
function policyOptions(opts: Record<string, string>): { policy?: Partial<PolicyOptions> } {
  const ipb = opts['--ipblock-pod-ips'];
  const node = opts['--node-traffic'];
  if (ipb !== undefined && ipb !== 'match' && ipb !== 'ignore')
    throw new CliError(`--ipblock-pod-ips ${quoted(ipb)}: use match or ignore`);
  if (node !== undefined && node !== 'allow' && node !== 'policy')
    throw new CliError(`--node-traffic ${quoted(node)}: use allow or policy`);
  if (ipb === undefined && node === undefined) return {};
  return {
    policy: {
      ...(ipb !== undefined ? { ipBlockPodIPs: ipb } : {}),
      ...(node !== undefined ? { nodeTraffic: node } : {}),
    },
  };
}
