import { escapeControls } from '../../core';
import { DEFAULT_PREFIX, labDown, labUnavailable, labUp, loadLabTopology, LabError } from '../../lab';
import { CliError, EXIT, type Command } from '../command';

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

Exit codes: 0 done, 2 could not run (not root, no ip netns, bad input, prefix in use).`;

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
    } else if (a.startsWith('-')) throw new CliError(`unknown option '${a}' (see netpath lab --help)`);
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
      const built = await labUp(topology, dataPlane, files, {
        prefix,
        onProgress: (m) => io.err(`${escapeControls(m)}\n`),
      });
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
      if (err instanceof LabError) throw new CliError(err.message);
      throw err;
    }
  },
};
