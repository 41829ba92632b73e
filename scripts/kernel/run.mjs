// The kernel tier: builds topologies in Linux network namespaces and checks that the kernel agrees with the
// tracer (test/kernel, its own .mocharc). Needs root; scripts/test.mjs skips the tier by name otherwise, and
// the tests themselves report as skipped when run directly without root.
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
// Its own process group: mocha's bin starts the real runner as a child (node --import=tsx), and a stop must reach
// that one too. Signalling only the bin left the runner building labs on its own after the tier's bound, outside
// the heavy lock its caller held (seen on a shared machine).
const child = spawn(
  process.execPath,
  [path.join(root, 'node_modules/mocha/bin/mocha.js'), '--config', path.join(root, 'test/kernel/.mocharc.json')],
  { cwd: root, stdio: 'inherit', detached: true },
);
// Pass a stop on to the whole group (the verifiers inside remove their labs on SIGTERM).
for (const sig of ['SIGINT', 'SIGTERM'])
  process.on(sig, () => {
    try {
      process.kill(-child.pid, sig);
    } catch {
      child.kill(sig);
    }
  });
child.on('close', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
