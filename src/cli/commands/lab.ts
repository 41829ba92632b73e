import { escapeControls } from '../../core';
import { DEFAULT_PREFIX, labDown, labUnavailable, labUp, loadLabTopology, LabError } from '../../lab';
import { CliError, EXIT, exitForStop, type CliIO, type Command, quoted } from '../command';

const USAGE = `Usage: netpath lab up <file|folder>... [--prefix NAME]
       netpath lab down [--prefix NAME]

Builds the topology for real in Linux network namespaces (needs root and iproute2, iptables, conntrack):
an underlay namespace per network with a bridge as the switch, a namespace per node (its interfaces, pod
bridge with the modelled hairpin setting, veths, routes, sysctls and its iptables rules exactly as
\`netpath trace\` evaluates them), a namespace per pod with a listener on each declared container port that
answers with the source address it saw, and a namespace per external client. Nothing in the machine's own
namespace is touched. \`lab down\` stops the listeners and removes exactly the namespaces \`lab up\` made.

Options:
  --prefix NAME   names every namespace NAME-...; a second \`up\` with the same prefix refuses (default ${DEFAULT_PREFIX})
  -h, --help      show this help

Ctrl-C (SIGINT) or SIGTERM during \`lab up\` stops the build and removes what it made (namespaces, listeners,
files): nothing of the lab is left. \`lab down\` finishes once started (each of its waits is bounded).

Exit codes: 0 done, 2 could not run (not root, no ip netns, bad input, prefix in use). \`lab up\` stopped by
SIGINT or SIGTERM removes what it made and then ends by that signal (a shell shows exit status 130 or 143).`;

function parse(args: readonly string[]): { action: string; paths: string[]; prefix: string } {
  const [action, ...rest] = args;
  if (action !== 'up' && action !== 'down') throw new CliError(`lab needs 'up' or 'down' (see netpath lab --help)`);
  const paths: string[] = [];
  let prefix = DEFAULT_PREFIX;
  for (let i = 0; i < rest.length; i++) {
    const a = rest[i];
    if (a === '--prefix' || a.startsWith('--prefix=')) {
      const v = a.includes('=') ? a.slice(a.indexOf('=') + 1) : rest[++i];
      if (!v) throw new CliError('--prefix needs a value');
      prefix = v;
    } else if (a.startsWith('-')) throw new CliError(`unknown option ${quoted(a)} (see netpath lab --help)`);
    else paths.push(a);
  }
  if (action === 'up' && !paths.length) throw new CliError('lab up needs at least one file or folder');
  if (action === 'down' && paths.length) throw new CliError('lab down takes no files, only --prefix');
  return { action, paths, prefix };
}

export const lab: Command = {
  name: 'lab',
  summary: 'build the topology in Linux network namespaces (lab up) or remove it (lab down); needs root',
  usage: USAGE,
  stoppable: true,
  async run(args, io) {
    const { action, paths, prefix } = parse(args);
    const why = await labUnavailable();
    if (why) throw new CliError(`cannot run the lab: ${why}`);
    try {
      if (action === 'down') {
        const r = await labDown(prefix);
        io.out(
          r.found
            ? `removed ${r.removed.length} namespaces and stopped ${r.stopped.length} listeners of lab '${prefix}'\n`
            : `no lab with prefix '${prefix}'\n`,
        );
        return EXIT.ok;
      }
      const { topology, dataPlane, files } = await loadLabTopology(paths, io.cwd);
      if (io.signal?.aborted) return await stopped(prefix, io);
      const built = await labUp(topology, dataPlane, files, {
        prefix,
        onProgress: (m) => io.err(`${escapeControls(m)}\n`),
        ...(io.signal ? { signal: io.signal } : {}),
      });
      // Stopped after the last command: the lab is up but the person asked for none.
      if (io.signal?.aborted) return await stopped(prefix, io);
      const lines = [
        `lab '${prefix}' is up: topology ${topology.name}, ${built.state.namespaces.length} namespaces, ${built.state.processes.length} listeners, in ${built.setupMs} ms`,
        '',
      ];
      const width = Math.max(...built.state.namespaces.map((n) => n.id.length));
      for (const n of built.state.namespaces) lines.push(`  ${n.id.padEnd(width)}  ip netns exec ${n.name} bash`);
      lines.push('', `remove it with: netpath lab down --prefix ${prefix}`);
      io.out(lines.join('\n') + '\n');
      return EXIT.ok;
    } catch (err) {
      // labUp removed what it made before it threw; stopped() makes sure and says so.
      if (io.signal?.aborted && action === 'up') return await stopped(prefix, io);
      if (err instanceof LabError) throw new CliError(err.message);
      throw err;
    }
  },
};

/** `lab up` was stopped: nothing of the lab may stay. One line, and the signal's code (the process re-raises it). */
async function stopped(prefix: string, io: CliIO): Promise<number> {
  const reason = typeof io.signal?.reason === 'string' ? io.signal.reason : 'a stop';
  let removed = `lab '${prefix}' removed`;
  try {
    await labDown(prefix);
  } catch (err) {
    removed = `removing lab '${prefix}' failed: ${err instanceof Error ? err.message : String(err)}; run \`netpath lab down --prefix ${prefix}\``;
  }
  io.err(`netpath lab: interrupted by ${reason}; ${escapeControls(removed)}\n`);
  return exitForStop(io.signal);
}
