'use strict';

const crypto = require('crypto');

// The hub accepts 1–255 printable ASCII characters.
const PRINTABLE = /^[\x20-\x7e]+$/;
const MAX_KEY = 255;

// JSON with object keys sorted at every level and no whitespace: two inputs that
// differ only in key order hash alike, as the hub's own fingerprint does.
const canonicalJson = (value) => {
  if (value === null || typeof value !== 'object') {
    return JSON.stringify(value === undefined ? null : value);
  }
  if (Array.isArray(value)) {
    return `[${value.map(canonicalJson).join(',')}]`;
  }
  const keys = Object.keys(value)
    .filter((k) => value[k] !== undefined)
    .sort();
  return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson(value[k])}`).join(',')}}`;
};

const sha256 = (text) => crypto.createHash('sha256').update(text, 'utf8').digest('hex');

// The Idempotency-Key of one action call.
//
// - A key the user mapped (typically the trigger event's `id`) is namespaced by the
//   action, so one trigger event may drive several different actions in one zap
//   without the hub answering 422 IDEMPOTENCY_KEY_REUSED. Values that are not short
//   printable ASCII are hashed.
// - Otherwise the key is a hash of the action and the canonical body sent. Zapier
//   Autoreplay re-runs a step with the same inputs, so the replay carries the same
//   key and the hub answers it from its stored result instead of acting twice. The
//   price: two runs with identical inputs within the hub's idempotency window
//   (24 h by default) collapse into one action. See README.md.
const idempotencyKey = (actionKey, body, mapped) => {
  const given = mapped === undefined || mapped === null ? '' : String(mapped).trim();
  if (given) {
    const key = `zap:${actionKey}:${given}`;
    return key.length <= MAX_KEY && PRINTABLE.test(key) ? key : `zap:${actionKey}:sha256:${sha256(given)}`;
  }
  return `zap:${actionKey}:auto:${sha256(`${actionKey}\n${canonicalJson(body)}`)}`;
};

module.exports = { canonicalJson, idempotencyKey, sha256 };
