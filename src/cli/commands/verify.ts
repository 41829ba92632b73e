import { escapeControls, escapeDeep } from '../../core';
import { formatVerifyText, runVerify, VerifyInterrupted, VerifyUnavailable } from '../../lab';
import { CliError, EXIT, exitForStop, type Command, quoted } from '../command';

const USAGE = `Usage: netpath verify <file|folder>... [--flows FILE] [--format text|json] [--prefix NAME] [--no-devices]
                      [--capture-dir DIR]

Builds the topology in Linux network namespaces (as \`netpath lab up\`), sends flows through the real kernel,
observes each one (who answered and the source address it saw, conntrack's NAT in every node, the set of
backends over repeated tries for load-balanced flows, the devices crossed in pod and node namespaces from one
tcpdump per namespace), compares it with \`netpath trace\`, removes the lab
(also on failure and Ctrl-C) and reports every difference. Needs root.

Flows: by default a representative set (container to container, pod to pod on one node and across nodes,
pod to each Service port, node to pod, external to each NodePort); with --flows a YAML list of
{from, to, proto} in the endpoint syntax of \`netpath trace\`.

Options:
  --flows FILE          the flows to run
  --format text|json    text: one line per flow (default); json: {flows:[{from,to,proto,agree,predicted,observed,differences}]}
  --prefix NAME         namespace prefix (default npv-<pid>)
  --no-devices          do not capture and compare the devices crossed (no tcpdump)
  --capture-dir DIR     write the captures in a folder made inside DIR (default: the lab's folder in /run/netpath);
                        a capture that cannot write (a full disk) stops the run with an error
  -h, --help            show this help

Exit codes: 0 every flow agrees, 1 some flow disagrees, 2 could not run (the lab is removed). Stopped by SIGINT
(Ctrl-C) or SIGTERM, it removes the lab and then ends by that signal, as if it had not caught it (a shell shows
exit status 130 or 143).`;

export const verify: Command = {
  name: 'verify',
  summary:
    'build the topology in network namespaces, send flows through the kernel and compare with the tracer; needs root',
  usage: USAGE,
  stoppable: true,
  async run(args, io) {
    const paths: string[] = [];
    const opts: Record<string, string> = {};
    for (let i = 0; i < args.length; i++) {
      const a = args[i];
      const eq = a.indexOf('=');
      const name = a.startsWith('--') && eq > 0 ? a.slice(0, eq) : a;
      if (['--flows', '--format', '--prefix', '--capture-dir'].includes(name)) {
        const v = eq > 0 && a.startsWith('--') ? a.slice(eq + 1) : args[++i];
        if (v === undefined) throw new CliError(`${name} needs a value (see netpath verify --help)`);
        opts[name] = v;
      } else if (a === '--no-devices') opts[a] = 'true';
      else if (a.startsWith('-')) throw new CliError(`unknown option ${quoted(a)} (see netpath verify --help)`);
      else paths.push(a);
    }
    if (!paths.length) throw new CliError('verify needs at least one file or folder (see netpath verify --help)');
    const format = opts['--format'] ?? 'text';
    if (format !== 'text' && format !== 'json')
      throw new CliError(`unknown format ${quoted(format)}: use text or json`);
    try {
      const report = await runVerify(
        paths,
        {
          cwd: io.cwd,
          ...(opts['--flows'] ? { flowsFile: opts['--flows'] } : {}),
          ...(opts['--prefix'] ? { prefix: opts['--prefix'] } : {}),
          ...(opts['--no-devices'] ? { devices: false } : {}),
          ...(opts['--capture-dir'] ? { captureDir: opts['--capture-dir'] } : {}),
          ...(io.signal ? { signal: io.signal } : {}),
        },
        (m) => io.err(`${escapeControls(m)}\n`),
      );
      io.out(format === 'json' ? `${JSON.stringify(report, null, 2)}\n` : formatVerifyText(escapeDeep(report)));
      return report.agree ? EXIT.ok : EXIT.findings;
    } catch (err) {
      if (err instanceof VerifyUnavailable) throw new CliError(`cannot verify: ${err.message}`);
      if (err instanceof VerifyInterrupted) {
        // One line, and the signal's code: the process then ends by the signal itself (main.ts, endProcess).
        io.err(`netpath verify: ${escapeControls(err.message)}\n`);
        return exitForStop(io.signal);
      }
      throw err;
    }
  },
};
