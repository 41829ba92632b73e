/**
 * The two small programs the lab runs inside namespaces, as CommonJS source written next to the state file at
 * `lab up` (so they work the same from the sources, the CLI bundle and the extension).
 *
 * - The listener serves every declared container port of one namespace (TCP and UDP, IPv4 and IPv6) and
 *   answers each connection or datagram with one JSON line: who answered and the peer address it saw.
 *   With an owner PID it exits when that process is gone (a verifier that crashed leaves no servers).
 * - The client makes a bounded number of tries to one address and port and prints one JSON array: per try the
 *   result (answered, refused, unreachable, denied, timeout, too-big, error), the reply, its own source address and port,
 *   and for UDP the payload it sent (a random token that finds the datagram in the captures). Every try of a run has a
 *   source port of its own (see `nextPort` in the source).
 */

export const LISTENER_SOURCE = String.raw`'use strict';
const net = require('net');
const dgram = require('dgram');
const spec = JSON.parse(process.argv[2]);
const norm = (a) => (typeof a === 'string' && a.startsWith('::ffff:') ? a.slice(7) : a);
let pending = spec.listeners.length;
const ready = () => { if (--pending === 0) process.stdout.write('ready\n'); };
const answer = (l, peer, peerPort) => JSON.stringify({ pod: l.pod, container: l.container, port: l.port, peer: norm(peer), peerPort }) + '\n';
for (const l of spec.listeners) {
  if (l.proto === 'TCP') {
    const server = net.createServer((c) => {
      c.on('error', () => {});
      c.end(answer(l, c.remoteAddress, c.remotePort));
    });
    server.on('error', (e) => { process.stdout.write('error ' + l.port + '/TCP ' + e.code + '\n'); ready(); });
    server.listen({ port: l.port, host: '::', ipv6Only: false }, ready);
  } else if (l.proto === 'UDP') {
    const s = dgram.createSocket({ type: 'udp6', ipv6Only: false });
    s.on('message', (m, r) => s.send(answer(l, r.address, r.port), r.port, r.address));
    s.on('error', (e) => { process.stdout.write('error ' + l.port + '/UDP ' + e.code + '\n'); ready(); });
    s.bind({ port: l.port, address: '::' }, ready);
  } else {
    process.stdout.write('skipped ' + l.port + '/' + l.proto + '\n');
    ready();
  }
}
if (pending === 0) process.stdout.write('ready\n');
process.on('SIGTERM', () => process.exit(0));
if (spec.owner) {
  setInterval(() => { try { process.kill(spec.owner, 0); } catch { process.exit(0); } }, 500);
}
`;

export const CLIENT_SOURCE = String.raw`'use strict';
const net = require('net');
const dgram = require('dgram');
const o = JSON.parse(process.argv[2]);
const norm = (a) => (typeof a === 'string' && a.startsWith('::ffff:') ? a.slice(7) : a);
const classify = (code) => ({ ECONNREFUSED: 'refused', EHOSTUNREACH: 'unreachable', ENETUNREACH: 'unreachable', EPERM: 'denied', EACCES: 'denied', ETIMEDOUT: 'timeout', ECONNRESET: 'reset', EMSGSIZE: 'too-big' })[code] || 'error';
function parseReply(text) { try { return JSON.parse(text); } catch { return undefined; } }
// The client picks each try's source port (the kernel still picks the source address), a port no earlier try of this
// run had: a try must be a new connection to every conntrack table on the way. A UDP datagram from a port an earlier
// try used matches that try's entry (30 s and more) and keeps its NAT, so the backend would not be chosen anew; a TCP
// SYN from it reopens the entry, which then holds the later try's NAT only. And conntrack entries and captured SYNs
// are told apart by this port alone. Random picks repeat (16 tries from 28,000 ports: 0.4% of runs), so the used ones
// are skipped. The SYN of a connection that fails is found in the captures too (a failed socket no longer tells its port).
const PORT_BASE = 32768, PORT_COUNT = 28000;
const usedPorts = new Set();
function nextPort() {
  let port = PORT_BASE + Math.floor(Math.random() * PORT_COUNT);
  for (let i = 0; usedPorts.has(port) && i < PORT_COUNT; i++) port = PORT_BASE + ((port - PORT_BASE + 1) % PORT_COUNT);
  usedPorts.add(port);
  return port;
}
function tcpTry(attempt = 0) {
  return new Promise((resolve) => {
    const t0 = Date.now();
    // A port in use (bind fails): another one.
    const chosen = nextPort();
    let done = false, buf = '', local, localPort = chosen;
    const s = net.connect(Object.assign({ host: o.dst, port: o.port, localPort: chosen }, o.bind ? { localAddress: o.bind } : {}));
    const finish = (r) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      if (local === undefined) { try { local = norm(s.localAddress); } catch {} }
      s.destroy();
      resolve(Object.assign(r, { local, localPort, ms: Date.now() - t0 }));
    };
    const timer = setTimeout(() => finish({ result: 'timeout' }), o.timeoutMs);
    s.on('connect', () => { local = norm(s.localAddress); localPort = s.localPort; });
    s.on('data', (d) => {
      buf += d.toString();
      if (buf.includes('\n')) { const reply = parseReply(buf); finish(reply ? { result: 'answered', reply } : { result: 'error', code: 'bad reply' }); }
    });
    s.on('end', () => finish(buf ? { result: 'error', code: 'bad reply' } : { result: 'error', code: 'closed without answer' }));
    s.on('error', (e) => {
      if (e.code === 'EADDRINUSE' && e.syscall === 'bind' && attempt < 5 && !done) {
        done = true;
        clearTimeout(timer);
        s.destroy();
        return resolve(tcpTry(attempt + 1));
      }
      finish({ result: classify(e.code), code: e.code });
    });
  });
}
function udpTry(attempt = 0) {
  return new Promise((resolve) => {
    const t0 = Date.now();
    // The datagram's payload identifies this try in the captures (NAT may rewrite addresses and ports).
    const token = 'netpath ' + require('crypto').randomBytes(8).toString('hex') + '\n';
    // A sized try: the datagram padded so that the IP packet is o.size bytes (IPv4 header 20, IPv6 40, UDP 8). Linux
    // sets Don't Fragment on it while it fits the route's MTU as the source knows it.
    const header = (o.dst.includes(':') ? 40 : 20) + 8;
    const payload = o.size ? Buffer.concat([Buffer.from(token), Buffer.alloc(Math.max(0, o.size - header - token.length), 0x2e)]) : token;
    let done = false, local, localPort;
    const s = dgram.createSocket(o.dst.includes(':') ? 'udp6' : 'udp4');
    const finish = (r) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      try { s.close(); } catch {}
      resolve(Object.assign(r, { local, localPort, token, ms: Date.now() - t0 }));
    };
    const timer = setTimeout(() => finish({ result: 'timeout' }), o.timeoutMs);
    s.on('error', (e) => {
      // A port in use: another one (as TCP).
      if (e.code === 'EADDRINUSE' && e.syscall === 'bind' && attempt < 5 && !done) {
        done = true;
        clearTimeout(timer);
        try { s.close(); } catch {}
        return resolve(udpTry(attempt + 1));
      }
      finish({ result: classify(e.code), code: e.code });
    });
    s.on('message', (m) => { const reply = parseReply(m.toString()); finish(reply ? { result: 'answered', reply } : { result: 'error', code: 'bad reply' }); });
    const go = () => s.connect(o.port, o.dst, (err) => {
      if (err) return finish({ result: classify(err.code), code: err.code });
      const a = s.address(); local = norm(a.address); localPort = a.port;
      s.send(payload, (e) => { if (e) finish({ result: classify(e.code), code: e.code }); });
    });
    // Bound to the port only (unless o.bind): the kernel picks the source address when the socket connects.
    s.bind(Object.assign({ port: nextPort() }, o.bind ? { address: o.bind } : {}), go);
  });
}
(async () => {
  const tries = [];
  const seen = new Set();
  let failed = false;
  for (let i = 0; i < o.maxTries; i++) {
    const r = await (o.proto === 'udp' ? udpTry() : tcpTry());
    tries.push(r);
    if (r.result === 'answered') seen.add(r.reply.pod + ':' + r.reply.port); else failed = true;
    const complete = o.want.answers.every((k) => seen.has(k)) && (!o.want.failure || failed);
    if (complete && tries.length >= o.minTries) break;
  }
  process.stdout.write(JSON.stringify(tries) + '\n');
})();
`;
