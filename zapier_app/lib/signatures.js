'use strict';

const crypto = require('crypto');

// Standard Webhooks v1 verification of a delivery Zapier received on the hook URL.
// The hub signs `${webhook-id}.${webhook-timestamp}.${body}` with HMAC-SHA256 under the
// subscription's `whsec_` secret (returned by POST /v1/hooks, kept in subscribeData);
// during a secret rotation several space-separated `v1,<base64>` signatures arrive.

// Zapier hands raw headers over either as sent or prefixed with `Http-`.
const headerOf = (headers, name) => {
  const wanted = [name.toLowerCase(), `http-${name.toLowerCase()}`];
  for (const [k, v] of Object.entries(headers || {})) {
    if (wanted.includes(k.toLowerCase())) return Array.isArray(v) ? v[0] : v;
  }
  return undefined;
};

const secretBytes = (secret) => Buffer.from(String(secret).replace(/^whsec_/, ''), 'base64');

const expectedSignature = (secret, id, timestamp, body) =>
  crypto.createHmac('sha256', secretBytes(secret)).update(`${id}.${timestamp}.${body}`, 'utf8').digest('base64');

const safeEqual = (a, b) => {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && crypto.timingSafeEqual(x, y);
};

// 'verified' | 'unsigned' (nothing to check: no secret kept or no signature headers) |
// 'invalid'. No timestamp window is enforced: Zapier dedupes on the body's `id`, so a
// replayed delivery cannot trigger a zap twice, and Zapier may run a hook's perform
// well after it received it.
const verify = (rawRequest, secret) => {
  if (!rawRequest || !secret) return 'unsigned';
  const headers = rawRequest.headers || {};
  const id = headerOf(headers, 'webhook-id');
  const timestamp = headerOf(headers, 'webhook-timestamp');
  const signatures = headerOf(headers, 'webhook-signature');
  if (!id || !timestamp || !signatures) return 'unsigned';
  const expected = expectedSignature(secret, id, timestamp, rawRequest.content || '');
  const ok = String(signatures)
    .split(' ')
    .map((s) => s.trim())
    .filter((s) => s.startsWith('v1,'))
    .some((s) => safeEqual(s.slice(3), expected));
  return ok ? 'verified' : 'invalid';
};

module.exports = { verify, expectedSignature, headerOf };
