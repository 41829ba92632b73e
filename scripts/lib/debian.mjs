// The Debian packages the test tiers and `npm start` need, found by the file each one provides (what
// the scripts actually use), and installed with apt-get when this process may (root).
import fs from 'node:fs';
import path from 'node:path';
import { run } from './proc.mjs';

/** Package -> a file it installs. The build tools are listed too: code-server compiles native modules. */
export const PROVIDES = {
  chromium: '/usr/bin/chromium',
  ripgrep: '/usr/bin/rg',
  'libkrb5-dev': '/usr/bin/krb5-config',
  iproute2: 'ip',
  iptables: 'iptables',
  nftables: 'nft',
  tcpdump: 'tcpdump',
  conntrack: 'conntrack',
  make: 'make',
  'g++': 'g++',
  python3: 'python3',
};

/** The packages of `names` whose file is missing. */
export function missingPackages(names) {
  return names.filter((name) => !provided(PROVIDES[name] ?? name));
}

/** A command found on PATH or in an sbin folder (ip, iptables and conntrack live there). */
function provided(file) {
  if (path.isAbsolute(file)) return fs.existsSync(file);
  const dirs = [...(process.env.PATH ?? '').split(':'), '/usr/sbin', '/sbin'];
  return dirs.some((dir) => dir && fs.existsSync(path.join(dir, file)));
}

export const isRoot = () => process.getuid?.() === 0;

/** The line a person runs to install `names`. */
export function installLine(names) {
  return `sudo apt-get update && sudo apt-get install -y ${names.join(' ')}`;
}

/** apt-get update + install (root only). */
export async function installPackages(names) {
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  await run('apt-get', ['update'], { env });
  await run('apt-get', ['install', '-y', ...names], { env });
}
