/**
 * The lab's client (scripts.ts), run as verify runs it but against servers on this process's loopback: every try of
 * a run is a connection of its own, from a source port no earlier try of the run had. A repeated port would be an
 * earlier try's conntrack entry (its NAT, so not a new backend choice) and would mix two tries' conntrack entries
 * and captured packets, which are told apart by that port.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import dgram from 'node:dgram';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { CLIENT_SOURCE } from '../../../src/lab/scripts';
import type { ClientTry } from '../../../src/lab/compare';

const TRIES = 16;

/** Runs the client with `Math.random` always 0.5 (so a port chosen at random repeats at once), returns its tries. */
function runClient(dir: string, args: object): Promise<ClientTry[]> {
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      ['--require', path.join(dir, 'fixed-random.cjs'), path.join(dir, 'client.cjs'), JSON.stringify(args)],
      { timeout: 20_000 },
      (err, stdout, stderr) => (err ? reject(new Error(`${err.message}\n${stderr}`)) : resolve(JSON.parse(stdout))),
    );
  });
}

const answer = (port: number, peer: string | undefined, peerPort: number | undefined): string =>
  JSON.stringify({ pod: 'default/web-1', container: 'app', port, peer, peerPort }) + '\n';

describe('lab/client: every try has a source port of its own', () => {
  let dir: string;
  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'netpath-client-'));
    fs.writeFileSync(path.join(dir, 'client.cjs'), CLIENT_SOURCE);
    fs.writeFileSync(path.join(dir, 'fixed-random.cjs'), 'Math.random = () => 0.5;\n');
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  const tries = (proto: 'tcp' | 'udp', port: number) => ({
    dst: '127.0.0.1',
    port,
    proto,
    maxTries: TRIES,
    minTries: TRIES,
    timeoutMs: 5000,
    want: { answers: [], failure: false },
  });

  it('TCP', async () => {
    const server = net.createServer((c) => {
      c.on('error', () => undefined);
      c.end(answer(port, c.remoteAddress, c.remotePort));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as net.AddressInfo).port;
    try {
      const got = await runClient(dir, tries('tcp', port));
      assert.deepEqual(
        got.map((t) => t.result),
        Array<string>(TRIES).fill('answered'),
      );
      assert.equal(new Set(got.map((t) => t.localPort)).size, TRIES, `ports ${got.map((t) => t.localPort).join(' ')}`);
    } finally {
      server.close();
    }
  });

  it('UDP', async () => {
    const server = dgram.createSocket('udp4');
    server.on('message', (_m, r) => server.send(answer(port, r.address, r.port), r.port, r.address));
    await new Promise<void>((resolve) => server.bind(0, '127.0.0.1', resolve));
    const port = server.address().port;
    try {
      const got = await runClient(dir, tries('udp', port));
      assert.deepEqual(
        got.map((t) => t.result),
        Array<string>(TRIES).fill('answered'),
      );
      assert.equal(new Set(got.map((t) => t.localPort)).size, TRIES, `ports ${got.map((t) => t.localPort).join(' ')}`);
      // The port each try reports is the one the server saw (the try's own, not a guess).
      assert.deepEqual(
        got.map((t) => (t.reply as { peerPort?: number } | undefined)?.peerPort),
        got.map((t) => t.localPort),
      );
    } finally {
      server.close();
    }
  });
});
