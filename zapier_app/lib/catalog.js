'use strict';

// The catalog the app is built from: `hub export zapier` writes zapier_app/catalog.json
// (the same document as GET /v1/catalog). tests/apps/ fails when the committed file
// differs from what the hub exports, so the triggers and actions always match the hub.

const catalog = require('../catalog.json');

// Zapier keys: letters, digits and underscores, starting with a letter.
const zapierKey = (name) => String(name).replace(/[^a-zA-Z0-9_]+/g, '_').replace(/^[^a-zA-Z]+/, '');

// A fixed, obviously fake timestamp keeps the generated app stable run after run.
const SAMPLE_TIME = '2025-01-01T12:00:00Z';

// The catalog's event sample is the event's `data`; the trigger's sample is the body
// Zapier receives: {id, type, occurred_at, data}.
const deliveredSample = (event) => {
  const sample = event.sample || {};
  if (sample.id && sample.type && sample.data) return sample;
  return { id: `evt_sample_${zapierKey(event.type)}`, type: event.type, occurred_at: SAMPLE_TIME, data: sample };
};

const actions = () =>
  (catalog.actions || []).map((a) => ({
    ...a,
    sample: a.sample_output || a.sample || {},
  }));

const events = () =>
  (catalog.event_types || catalog.events || []).map((e) => ({
    ...e,
    sample: deliveredSample(e),
  }));

module.exports = { catalog, actions, events, zapierKey, deliveredSample };
