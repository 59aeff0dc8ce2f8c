'use strict';

// Preloaded (`node --require`) into the Zapier CLI by tests/apps: any attempt to open
// a connection or resolve a name outside loopback fails loudly, so "validate works
// offline" is checked rather than assumed (analytics and update checks included).

const net = require('net');
const dns = require('dns');

const LOOPBACK = /^(127\.|::1$|localhost$|::ffff:127\.)/;

const block = (what) => {
  process.stderr.write(`OFFLINE-GUARD: blocked ${what}\n`);
  const err = new Error(`offline guard: ${what}`);
  err.code = 'ENETUNREACH';
  return err;
};

const hostOf = (args) => {
  const first = args[0];
  if (Array.isArray(first)) return hostOf(first);
  if (first && typeof first === 'object') return first.host || first.hostname || (first.path ? 'localhost' : 'localhost');
  if (typeof first === 'string' && !/^\d+$/.test(first)) return 'localhost'; // a unix socket path
  return typeof args[1] === 'string' ? args[1] : 'localhost';
};

const originalConnect = net.Socket.prototype.connect;
net.Socket.prototype.connect = function connect(...args) {
  const host = String(hostOf(args));
  if (!LOOPBACK.test(host)) {
    const err = block(`connection to ${host}`);
    process.nextTick(() => this.destroy(err));
    return this;
  }
  return originalConnect.apply(this, args);
};

for (const name of ['lookup', 'resolve', 'resolve4', 'resolve6']) {
  const original = dns[name];
  dns[name] = function guarded(host, ...rest) {
    if (LOOPBACK.test(String(host))) return original.call(this, host, ...rest);
    const callback = rest[rest.length - 1];
    const err = block(`DNS lookup of ${host}`);
    if (typeof callback === 'function') process.nextTick(() => callback(err));
    return undefined;
  };
}
