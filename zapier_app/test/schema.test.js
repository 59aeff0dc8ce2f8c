'use strict';

// Schema validation of the whole app and of every trigger and create on its own:
// app-level validation alone misses e.g. a missing sample on one operation.

const { describe, it } = require('node:test');
const assert = require('node:assert/strict');

const { prepareApp, validateApp } = require('zapier-platform-core/src/tools/schema');
const cleaner = require('zapier-platform-core/src/tools/cleaner');
const TriggerSchema = require('zapier-platform-schema/lib/schemas/TriggerSchema');
const CreateSchema = require('zapier-platform-schema/lib/schemas/CreateSchema');
const SearchSchema = require('zapier-platform-schema/lib/schemas/SearchSchema');

const App = require('../index');
const { actions, events, zapierKey } = require('../lib/catalog');

const compiled = prepareApp(App);
const errorsOf = (schema, definition) => schema.validate(cleaner.recurseCleanFuncs(definition)).errors.map((e) => e.stack);

describe('app definition', () => {
  it('validates as a whole', () => {
    assert.deepEqual(validateApp(compiled), []);
  });

  it('has one trigger per catalog event type, one create per action, one search per search', () => {
    assert.ok(events().length > 0 && actions().length > 0, 'the catalog is empty');
    const visible = Object.values(App.triggers).filter((t) => !t.display.hidden);
    assert.deepEqual(visible.map((t) => t.key).sort(), events().map((e) => zapierKey(e.type)).sort());
    // Every dropdown an input names is a hidden trigger of the app.
    for (const create of Object.values(App.creates)) {
      for (const field of create.operation.inputFields.filter((f) => f.dynamic)) {
        const trigger = App.triggers[field.dynamic.split('.')[0]];
        assert.ok(trigger && trigger.display.hidden, field.dynamic);
      }
    }
    const keys = (kind) => actions().filter((a) => (a.kind === 'search') === (kind === 'search')).map((a) => zapierKey(a.name)).sort();
    assert.deepEqual(Object.keys(App.creates).sort(), keys('create'));
    assert.deepEqual(Object.keys(App.searches).sort(), keys('search'));
    for (const [key, pair] of Object.entries(App.searchOrCreates)) {
      assert.ok(App.searches[pair.search] && App.creates[pair.create], key);
    }
  });

  for (const event of events()) {
    const key = zapierKey(event.type);
    it(`trigger ${key} validates and has a sample with an id`, () => {
      const trigger = compiled.triggers[key];
      assert.deepEqual(errorsOf(TriggerSchema, trigger), []);
      assert.equal(trigger.operation.type, 'hook');
      for (const fn of ['perform', 'performList', 'performSubscribe', 'performUnsubscribe']) {
        assert.equal(typeof trigger.operation[fn], 'function', fn);
      }
      const sample = trigger.operation.sample;
      assert.ok(sample && sample.id, 'sample.id');
      assert.equal(sample.type, event.type);
      assert.deepEqual(Object.keys(sample).filter((k) => ['id', 'type', 'occurred_at', 'data'].includes(k)).sort(), [
        'data',
        'id',
        'occurred_at',
        'type',
      ]);
    });
  }

  for (const action of actions().filter((a) => a.kind === 'search')) {
    const key = zapierKey(action.name);
    it(`search ${key} validates, has a sample and output fields for the items`, () => {
      const search = compiled.searches[key];
      assert.deepEqual(errorsOf(SearchSchema, search), []);
      assert.ok(search.operation.sample && Object.keys(search.operation.sample).length);
      const outputs = search.operation.outputFields.map((f) => f.key);
      for (const name of Object.keys(search.operation.sample)) assert.ok(outputs.includes(name), name);
    });
  }

  for (const action of actions().filter((a) => a.kind !== 'search')) {
    const key = zapierKey(action.name);
    it(`create ${key} validates, has a sample and maps its schema`, () => {
      const create = compiled.creates[key];
      assert.deepEqual(errorsOf(CreateSchema, create), []);
      assert.ok(create.operation.sample && Object.keys(create.operation.sample).length);
      const keys = create.operation.inputFields.map((f) => f.key);
      const required = action.input_schema.required || [];
      for (const name of required) {
        const field = create.operation.inputFields.find((f) => f.key === name || f.key.startsWith(`${name}__`));
        assert.ok(field, `required input ${name} has a field`);
      }
      assert.ok(keys.includes('idempotency_key') || keys.includes('zap_idempotency_key'));
    });
  }

  it('a definition without a sample is refused (the per-operation check works)', () => {
    const [firstKey] = Object.keys(compiled.triggers);
    const trigger = JSON.parse(JSON.stringify(cleaner.recurseCleanFuncs(compiled.triggers[firstKey])));
    delete trigger.operation.sample;
    assert.notDeepEqual(errorsOf(TriggerSchema, trigger), []);
  });
});
