'use strict';

// The app's own rules, without a hub: idempotency keys, schema -> fields -> body,
// base URL handling, signature checks.

const { describe, it } = require('node:test');
const assert = require('node:assert/strict');
const crypto = require('crypto');

const { canonicalJson, idempotencyKey } = require('../lib/idempotency');
const { bodyOf, inputFieldsOf } = require('../lib/fields');
const { baseUrlOf } = require('../lib/config');
const { verify, expectedSignature } = require('../lib/signatures');

describe('idempotency keys', () => {
  it('ignore key order and whitespace (canonical JSON)', () => {
    assert.equal(canonicalJson({ b: 1, a: { d: [1, 2], c: 'x' } }), '{"a":{"c":"x","d":[1,2]},"b":1}');
    assert.equal(idempotencyKey('create_lead', { a: 1, b: 2 }), idempotencyKey('create_lead', { b: 2, a: 1 }));
  });

  it('are stable for the same action and inputs (Autoreplay) and differ otherwise', () => {
    const key = idempotencyKey('create_lead', { company_name: 'Acme' });
    assert.equal(key, idempotencyKey('create_lead', { company_name: 'Acme' }));
    assert.notEqual(key, idempotencyKey('create_lead', { company_name: 'Acme 2' }));
    assert.notEqual(key, idempotencyKey('update_lead', { company_name: 'Acme' }));
    assert.match(key, /^zap:create_lead:auto:[0-9a-f]{64}$/);
  });

  it('namespace a mapped key by action and hash what the hub would refuse', () => {
    assert.equal(idempotencyKey('create_lead', { x: 1 }, ' evt_123 '), 'zap:create_lead:evt_123');
    assert.equal(idempotencyKey('create_lead', { x: 2 }, 'evt_123'), 'zap:create_lead:evt_123');
    const odd = idempotencyKey('create_lead', {}, 'ação-ü');
    assert.match(odd, /^zap:create_lead:sha256:[0-9a-f]{64}$/);
    const long = idempotencyKey('create_lead', {}, 'x'.repeat(400));
    assert.ok(long.length <= 255);
    for (const key of [odd, long]) assert.match(key, /^[\x20-\x7e]{1,255}$/);
  });
});

describe('fields from a JSON schema', () => {
  const schema = {
    type: 'object',
    required: ['name', 'count'],
    properties: {
      name: { type: 'string', title: 'Name', description: 'Who.', examples: ['Ana'] },
      count: { type: 'integer' },
      ok: { anyOf: [{ type: 'boolean' }, { type: 'null' }], default: null },
      when: { type: 'string', format: 'date-time' },
      kind: { enum: ['a', 'b'], default: 'a' },
      tags: { type: 'array', items: { type: 'string' } },
      contact: { anyOf: [{ $ref: '#/$defs/Contact' }, { type: 'null' }] },
      rows: { type: 'array', items: { $ref: '#/$defs/Row' } },
      extra: { type: 'object', additionalProperties: { type: 'string' } },
      payload: { type: 'object', description: 'Anything.' },
    },
    $defs: {
      Contact: { type: 'object', required: ['email'], properties: { email: { type: 'string' } } },
      Row: { type: 'object', required: ['sku'], properties: { sku: { type: 'string' }, qty: { type: 'integer' } } },
    },
  };

  it('map types, required, help text and choices', () => {
    const fields = Object.fromEntries(inputFieldsOf(schema).map((f) => [f.key, f]));
    assert.deepEqual(fields.name, { key: 'name', label: 'Name', required: true, type: 'string', helpText: 'Who. Example: `Ana`.' });
    assert.equal(fields.count.type, 'integer');
    assert.equal(fields.ok.type, 'boolean');
    assert.equal(fields.ok.required, false);
    assert.equal(fields.when.type, 'datetime');
    assert.deepEqual(fields.kind.choices.map((c) => c.value), ['a', 'b']);
    assert.equal(fields.kind.default, 'a');
    assert.equal(fields.tags.list, true);
    assert.equal(fields.contact__email.required, false, 'required only when the parent is');
    assert.deepEqual(fields.rows.children.map((c) => c.key), ['sku', 'qty']);
    assert.equal(fields.extra.dict, true);
    assert.equal(fields.payload.type, 'text');
    assert.equal(fields.payload.helpText, 'Anything. A JSON object.');
  });

  it('build the nested body back, dropping empty inputs and coercing numbers', () => {
    const body = bodyOf(schema, {
      name: 'Ana',
      count: '3',
      ok: 'yes',
      kind: '',
      tags: ['x', ''],
      contact__email: 'a@b.co',
      rows: [{ sku: 'A', qty: '2' }, {}],
      extra: { k: 'v' },
      payload: '{"a": {"b": [1]}}',
      unknown: 'dropped',
    });
    assert.deepEqual(body, {
      name: 'Ana',
      count: 3,
      ok: true,
      tags: ['x'],
      contact: { email: 'a@b.co' },
      rows: [{ sku: 'A', qty: 2 }],
      extra: { k: 'v' },
      payload: { a: { b: [1] } },
    });
  });
});

describe('base URL', () => {
  it('defaults to the hosted hub and normalizes a self-hosted one', () => {
    assert.equal(baseUrlOf({}), 'https://hub.example.com');
    assert.equal(baseUrlOf({ base_url: ' https://hub.acme.test/ ' }), 'https://hub.acme.test');
    assert.equal(baseUrlOf({ base_url: 'http://127.0.0.1:8000/prefix/' }), 'http://127.0.0.1:8000/prefix');
  });

  it('refuses other schemes and embedded credentials', () => {
    assert.throws(() => baseUrlOf({ base_url: 'file:///etc/passwd' }), /https/);
    assert.throws(() => baseUrlOf({ base_url: 'https://u:p@hub.test' }), /credentials/);
    assert.throws(() => baseUrlOf({ base_url: 'not a url' }), /not a valid URL/);
  });
});

describe('delivery signatures', () => {
  const secret = `whsec_${crypto.randomBytes(24).toString('base64')}`;
  const content = '{"id":"evt_1","type":"lead.created","occurred_at":"2025-01-01T00:00:00Z","data":{}}';
  const headers = (sig) => ({ 'Http-Webhook-Id': 'dlv_1', 'Http-Webhook-Timestamp': '1700000000', 'Http-Webhook-Signature': sig });

  it('verify the hub signature, also among several during a rotation', () => {
    const good = expectedSignature(secret, 'dlv_1', '1700000000', content);
    assert.equal(verify({ headers: headers(`v1,${good}`), content }, secret), 'verified');
    assert.equal(verify({ headers: headers(`v1,AAAA v1,${good}`), content }, secret), 'verified');
    assert.equal(verify({ headers: headers(`v1,${good}`), content: `${content} ` }, secret), 'invalid');
    assert.equal(verify({ headers: {}, content }, secret), 'unsigned');
    assert.equal(verify({ headers: headers(`v1,${good}`), content }, undefined), 'unsigned');
  });
});

describe('error messages fit Zapier\'s 250 characters', () => {
  const { errors } = require('zapier-platform-core');
  const { errorFor, MAX_MESSAGE } = require('../lib/errors');
  const z = { errors };
  const long = {
    code: 'VALIDATION_FAILED',
    detail: 'the request body is invalid',
    correlation_id: 'req_01m9157ehynnb2zpwxa8tx4k2m',
    errors: Array.from({ length: 30 }, (_, i) => ({ path: `$.inputs.field_${i}`, message: 'expected a string of at most 200 characters' })),
  };
  const response = { status: 422, content: JSON.stringify(long), headers: { get: () => null } };

  it('cuts the description, keeps the code and the correlation id', () => {
    const { message } = JSON.parse(errorFor(z, response).message);
    assert.ok(message.length <= MAX_MESSAGE, `${message.length} characters`);
    assert.ok(message.includes('[VALIDATION_FAILED]'), message);
    assert.ok(message.endsWith('(correlation id req_01m9157ehynnb2zpwxa8tx4k2m)'), message);
    assert.ok(message.startsWith('the request body is invalid'), message);
  });
});

describe('problems become Zapier errors', () => {
  const { errors } = require('zapier-platform-core');
  const { errorFor } = require('../lib/errors');
  const z = { errors };
  const response = (status, problem, headers = {}) => ({
    status,
    content: JSON.stringify(problem),
    headers: { get: (name) => headers[name.toLowerCase()] ?? null },
  });

  it('409 IDEMPOTENCY_IN_PROGRESS is retried later (ThrottledError with Retry-After)', () => {
    const err = errorFor(z, response(409, { code: 'IDEMPOTENCY_IN_PROGRESS', detail: 'still running' }, { 'retry-after': '2' }));
    assert.equal(err.name, 'ThrottledError');
    assert.equal(JSON.parse(err.message).delay, 2);
  });

  it('429 keeps the Retry-After delay', () => {
    const err = errorFor(z, response(429, { code: 'QUOTA_EXCEEDED', detail: 'quota' }, { 'retry-after': '30' }));
    assert.equal(err.name, 'ThrottledError');
    assert.deepEqual(JSON.parse(err.message), { message: 'quota [QUOTA_EXCEEDED]', delay: 30 });
  });

  it('5xx is a plain Error carrying code and status (Autoreplay may run the step again)', () => {
    const err = errorFor(z, response(502, { code: 'UPSTREAM_ERROR', detail: 'upstream answered 503', correlation_id: 'req_1' }));
    assert.equal(err.name, 'AppError');
    assert.deepEqual(JSON.parse(err.message), {
      message: 'upstream answered 503 [UPSTREAM_ERROR] (correlation id req_1)',
      code: 'UPSTREAM_ERROR',
      status: 502,
    });
  });

  it('422 lists every field error; 401 asks to reconnect; non-JSON bodies still map', () => {
    const err = errorFor(z, response(422, { code: 'VALIDATION_FAILED', detail: 'invalid', errors: [{ path: '$.to', message: 'bad phone' }] }));
    assert.match(JSON.parse(err.message).message, /invalid \[VALIDATION_FAILED\]: \$\.to: bad phone/);
    assert.equal(errorFor(z, response(401, { code: 'KEY_REVOKED', detail: 'revoked' })).name, 'ExpiredAuthError');
    assert.equal(errorFor(z, response(401, { code: 'KEY_EXPIRED', detail: 'expired' })).name, 'ExpiredAuthError');
    const wrong = errorFor(z, response(401, { code: 'UNAUTHENTICATED', detail: 'invalid API key' }));
    assert.equal(wrong.name, 'AppError'); // a wrong key at connect: no "reconnect" prompt
    assert.match(JSON.parse(wrong.message).message, /^Authentication failed/);
    const html = { status: 503, content: '<html>', headers: { get: () => null } };
    assert.equal(JSON.parse(errorFor(z, html).message).status, 503);
  });
});
