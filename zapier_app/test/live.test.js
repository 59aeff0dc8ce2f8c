'use strict';

// The app against a live hub, as Zapier would run it. tests/apps/test_zapier_live.py
// starts the hub (API + delivery worker), a catch server standing in for Zapier's
// hook URLs and a stand-in for the tenant's product, provisions a tenant and
// integrations through the admin API, then runs this file with:
//   HUB_BASE_URL, HUB_API_KEY (a live "zapier" integration), HUB_SOURCE_KEY (a
//   "source" integration that may publish events), HUB_ADMIN_TOKEN, HUB_TENANT_ID,
//   HUB_TENANT_NAME, HUB_INTEGRATION_ID, HUB_INTEGRATION_NAME, HUB_CATCH_URL.
// Without them (plain `npm test`) it is skipped; the pytest wrapper refuses skips.

const { describe, it } = require('node:test');
const assert = require('node:assert/strict');
const crypto = require('crypto');

const zapier = require('zapier-platform-core');
const App = require('../index');
const { actions, events, zapierKey } = require('../lib/catalog');
const { planOf } = require('../lib/fields');

const env = process.env;
const suite = env.HUB_BASE_URL ? describe : describe.skip;
const appTester = zapier.createAppTester(App);
const WAIT_SECONDS = 60;
// Event types only the hub itself may publish (from the hub's catalog, via the runner).
const RESERVED = new Set((env.HUB_RESERVED_EVENT_TYPES || '').split(',').filter(Boolean));

const authData = () => ({ api_key: env.HUB_API_KEY, base_url: env.HUB_BASE_URL });
const unique = (prefix) => `${prefix}-${crypto.randomBytes(6).toString('hex')}`;

const call = async (method, path, { key, body, base = env.HUB_BASE_URL } = {}) => {
  const response = await fetch(`${base}${path}`, {
    method,
    headers: { 'content-type': 'application/json', ...(key ? { authorization: `Bearer ${key}` } : {}) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : null };
};

const admin = (method, path, body) => call(method, `/admin/v1${path}`, { key: env.HUB_ADMIN_TOKEN, body });

// Long-polls the catch server for the next request that reached `path`.
const nextDelivery = async (path, after = 0) => {
  const url = `${env.HUB_CATCH_URL}/_next${path}?after=${after}&timeout=${WAIT_SECONDS}`;
  const response = await fetch(url);
  assert.equal(response.status, 200, `no delivery reached ${path} within ${WAIT_SECONDS}s`);
  return response.json();
};

// What Zapier hands a hook's perform: the parsed body and the raw request, whose
// headers arrive prefixed with `Http-`.
const hookBundle = (delivery, subscribeData) => ({
  authData: authData(),
  subscribeData,
  cleanedRequest: JSON.parse(delivery.content),
  rawRequest: {
    method: 'POST',
    headers: Object.fromEntries(
      Object.entries(delivery.headers).map(([k, v]) => [`Http-${k.replace(/(^|-)(\w)/g, (m) => m.toUpperCase())}`, v]),
    ),
    content: delivery.content,
  },
});

// A catalog sample input as Zapier inputData: nested objects flattened with `__`.
const inputDataOf = (schema, sample) => {
  const input = {};
  for (const step of planOf(schema)) {
    const value = step.path.reduce((node, part) => (node == null ? undefined : node[part]), sample);
    if (value !== undefined && value !== null) input[step.key] = value;
  }
  return input;
};

const problemOf = (err) => {
  try {
    return JSON.parse(err.message);
  } catch (e) {
    return { message: err.message };
  }
};

const DELIVERED_KEYS = ['data', 'id', 'occurred_at', 'type'];
const shapeOf = (body) => Object.keys(body).filter((k) => k !== 'sandbox').sort();

suite('authentication against the hub', () => {
  it('test answers the integration and the label names tenant and integration', async () => {
    const me = await appTester(App.authentication.test, { authData: authData() });
    assert.equal(me.integration_id, env.HUB_INTEGRATION_ID);
    assert.equal(me.tenant_id, env.HUB_TENANT_ID);
    const label = await appTester(App.authentication.connectionLabel, { authData: authData(), inputData: me });
    assert.ok(label.includes(env.HUB_TENANT_NAME), label);
    assert.ok(label.includes(env.HUB_INTEGRATION_NAME), label);
  });

  it('a wrong key at connect is a plain authentication failure (not ExpiredAuthError)', async () => {
    const bad = { ...authData(), api_key: `hk_${'0'.repeat(16)}_${'x'.repeat(52)}` };
    await assert.rejects(appTester(App.authentication.test, { authData: bad }), (err) => {
      assert.notEqual(err.name, 'ExpiredAuthError');
      assert.match(err.message, /Authentication failed/);
      assert.match(err.message, /UNAUTHENTICATED/);
      return true;
    });
  });

  it('a key rotated without grace is ExpiredAuthError; the new key works', async () => {
    const created = await admin('POST', `/tenants/${env.HUB_TENANT_ID}/integrations`, {
      name: unique('rotating'),
      kind: 'zapier',
      scopes: ['actions:*', 'triggers:*'],
    });
    assert.equal(created.status, 201);
    const rotated = await admin('POST', `/integrations/${created.body.id}/keys/rotate`, { grace_seconds: 0 });
    assert.equal(rotated.status, 201);
    const old = { api_key: created.body.api_key, base_url: env.HUB_BASE_URL };
    await assert.rejects(appTester(App.authentication.test, { authData: old }), { name: 'ExpiredAuthError' });
    const fresh = { api_key: rotated.body.api_key, base_url: env.HUB_BASE_URL };
    const me = await appTester(App.authentication.test, { authData: fresh });
    assert.equal(me.integration_id, created.body.id);
  });
});

suite('REST-hook triggers against the hub', () => {
  for (const event of events()) {
    const trigger = App.triggers[zapierKey(event.type)];

    it(`${event.type}: subscribe, deliver, perform, list, unsubscribe`, async () => {
      const before = await appTester(trigger.operation.performList, { authData: authData() });
      assert.ok(before.length >= 1, 'performList answers at least the catalog sample');
      for (const item of before) assert.deepEqual(shapeOf(item), DELIVERED_KEYS);

      const path = `/hooks/${unique(zapierKey(event.type))}`;
      const subscribeData = await appTester(trigger.operation.performSubscribe, {
        authData: authData(),
        targetUrl: `${env.HUB_CATCH_URL}${path}`,
      });
      assert.ok(subscribeData.id, 'the subscription id is kept for unsubscribe');
      assert.match(subscribeData.secret, /^whsec_/);
      const again = await appTester(trigger.operation.performSubscribe, {
        authData: authData(),
        targetUrl: `${env.HUB_CATCH_URL}${path}`,
      });
      assert.equal(again.id, subscribeData.id, 're-subscribing the same URL is idempotent');

      const eventId = unique('evt');
      const published = await call('POST', '/v1/events', {
        key: env.HUB_SOURCE_KEY,
        body: { id: eventId, type: event.type, data: event.sample.data },
      });
      assert.equal(published.status, 202, JSON.stringify(published.body));
      if (RESERVED.has(event.type)) {
        // Only the hub publishes it (docs/api.md): a source's copy is refused, so
        // nothing reaches the hook; the hub's own deliveries are tested in Python.
        assert.equal(published.body.accepted, 0, JSON.stringify(published.body));
        assert.match(published.body.rejected[0].detail, /reserved/);
        await appTester(trigger.operation.performUnsubscribe, { authData: authData(), subscribeData });
        return;
      }
      assert.equal(published.body.accepted, 1, JSON.stringify(published.body));

      // The first delivery to this fresh URL is ours; `id` is the hub's event id (what
      // Zapier dedupes on), not the producer's.
      const delivery = await nextDelivery(path);
      const body = JSON.parse(delivery.content);
      assert.match(body.id, /\S/);
      assert.equal(body.type, event.type);
      assert.deepEqual(shapeOf(body), DELIVERED_KEYS);
      assert.ok(delivery.headers['webhook-signature'], 'deliveries are signed');

      const performed = await appTester(trigger.operation.perform, hookBundle(delivery, subscribeData));
      assert.deepEqual(performed, [body]);

      const tampered = hookBundle(delivery, subscribeData);
      tampered.rawRequest.content = delivery.content.replace(body.id, unique('evt'));
      await assert.rejects(appTester(trigger.operation.perform, tampered), /signature/);

      // The Zap editor tests with performList only: it must show what deliveries carry.
      const listed = await appTester(trigger.operation.performList, { authData: authData() });
      assert.deepEqual(listed[0], body);

      await appTester(trigger.operation.performUnsubscribe, { authData: authData(), subscribeData });
      await appTester(trigger.operation.performUnsubscribe, { authData: authData(), subscribeData });
      const hooks = await call('GET', '/v1/hooks', { key: env.HUB_API_KEY });
      assert.equal(hooks.status, 200);
      const items = Array.isArray(hooks.body) ? hooks.body : hooks.body.items;
      assert.ok(!items.some((h) => h.id === subscribeData.id), 'unsubscribed');
    });
  }
});

suite('dropdowns against the hub', () => {
  for (const trigger of Object.values(App.triggers).filter((t) => t.display.hidden)) {
    it(`${trigger.key}: lists the values the actions accept`, async () => {
      const items = await appTester(trigger.operation.perform, { authData: authData() });
      assert.ok(items.length >= 2, JSON.stringify(items));
      for (const item of items) assert.ok(item.id && item.name, JSON.stringify(item));
    });
  }
});

suite('searches against the hub', () => {
  for (const action of actions().filter((a) => a.kind === 'search')) {
    const search = App.searches[zapierKey(action.name)];
    it(`${action.name}: answers the product's matches as a list`, async () => {
      const inputData = inputDataOf(action.input_schema, action.sample_input || {});
      const found = await appTester(search.operation.perform, { authData: authData(), inputData });
      assert.ok(Array.isArray(found), JSON.stringify(found));
      assert.ok(found.length >= 1, 'the product answers its sample: one match');
      for (const key of Object.keys(search.operation.sample)) assert.ok(key in found[0], `sample key ${key}`);
    });
    it(`${action.name}: a query with nothing to search by is a validation error`, async () => {
      await assert.rejects(appTester(search.operation.perform, { authData: authData(), inputData: {} }), (err) => {
        assert.equal(problemOf(err).status, 422, err.message);
        return true;
      });
    });
  }
});

suite('creates against the hub', () => {
  for (const action of actions().filter((a) => a.kind !== 'search')) {
    const create = App.creates[zapierKey(action.name)];
    const inputData = () => inputDataOf(action.input_schema, action.sample_input || {});

    it(`${action.name}: runs once, replays, honours a mapped key`, async () => {
      const first = await appTester(create.operation.perform, { authData: authData(), inputData: inputData() });
      assert.ok(first.execution_id, JSON.stringify(first));
      assert.equal(first.action, action.name);
      assert.equal(first.replayed, false);
      assert.equal(typeof first.outputs, 'object');
      for (const key of Object.keys(create.operation.sample)) assert.ok(key in first, `sample key ${key}`);

      // Zapier Autoreplay: the same inputs again are answered from the stored result.
      const replay = await appTester(create.operation.perform, { authData: authData(), inputData: inputData() });
      assert.equal(replay.replayed, true);
      assert.equal(replay.execution_id, first.execution_id);
      assert.equal(replay.idempotency_key, first.idempotency_key);

      const mapped = { ...inputData(), idempotency_key: unique('evt') };
      const once = await appTester(create.operation.perform, { authData: authData(), inputData: mapped });
      assert.notEqual(once.execution_id, first.execution_id);
      assert.equal(once.replayed, false);
      const twice = await appTester(create.operation.perform, { authData: authData(), inputData: mapped });
      assert.equal(twice.execution_id, once.execution_id);
      assert.equal(twice.replayed, true);
    });

    it(`${action.name}: a validation error names the field`, async () => {
      // The required inputs, or (send_whatsapp_message: `to` or `lead_id`) the ones of
      // which one is required.
      const anyOf = action.input_schema.anyOf || [];
      const required = (action.input_schema.required || []).length
        ? action.input_schema.required
        : anyOf.flatMap((rule) => rule.required || []);
      assert.ok(required.length, 'every action has a required input');
      const inputs = inputData();
      for (const name of required) {
        for (const key of Object.keys(inputs)) if (key === name || key.startsWith(`${name}__`)) delete inputs[key];
      }
      await assert.rejects(appTester(create.operation.perform, { authData: authData(), inputData: inputs }), (err) => {
        const problem = problemOf(err);
        assert.equal(problem.status, 422, err.message);
        assert.equal(problem.code, 'VALIDATION_FAILED');
        assert.ok(required.some((name) => problem.message.includes(name)), problem.message);
        return true;
      });
    });
  }

  it('over the rate limit is ThrottledError with the Retry-After delay', async () => {
    const limited = await admin('POST', `/tenants/${env.HUB_TENANT_ID}/integrations`, {
      name: unique('limited'),
      kind: 'zapier',
      scopes: ['actions:*'],
      limits: { actions_per_minute: 1 },
    });
    assert.equal(limited.status, 201);
    const [action] = actions();
    const create = App.creates[zapierKey(action.name)];
    const auth = { api_key: limited.body.api_key, base_url: env.HUB_BASE_URL };
    const inputs = inputDataOf(action.input_schema, action.sample_input || {});
    await appTester(create.operation.perform, { authData: auth, inputData: { ...inputs, idempotency_key: unique('a') } });
    await assert.rejects(
      appTester(create.operation.perform, { authData: auth, inputData: { ...inputs, idempotency_key: unique('b') } }),
      (err) => {
        assert.equal(err.name, 'ThrottledError');
        const { message, delay } = problemOf(err);
        assert.ok(delay >= 1, `delay ${delay}`);
        assert.match(message, /RATE_LIMITED|QUOTA_EXCEEDED/);
        return true;
      },
    );
  });
});
