'use strict';

// One REST-hook trigger per catalog event type: Zapier subscribes its hook URL with
// POST /v1/hooks, the hub's workers deliver `{id, type, occurred_at, data}` to it, and
// the Zap editor's test pulls the same shape from GET /v1/events/{type}/samples.

const { apiUrl } = require('./http');
const { humanize, outputFieldsOf } = require('./fields');

// Zapier's conventions: title-case labels, descriptions that start "Triggers when".
const SMALL_WORDS = new Set(['a', 'an', 'and', 'as', 'at', 'by', 'for', 'in', 'of', 'on', 'or', 'the', 'to']);
const titleCase = (text) =>
  String(text)
    .split(/\s+/)
    .filter(Boolean)
    .map((w, i) => ((i && SMALL_WORDS.has(w.toLowerCase())) || /^[A-Z]/.test(w) ? w : w[0].toUpperCase() + w.slice(1)))
    .join(' ');
const triggersWhen = (description) => {
  const text = String(description).trim();
  return /^triggers when/i.test(text) ? text : `Triggers when ${text[0].toLowerCase()}${text.slice(1)}`;
};
const { verify } = require('./signatures');
const { zapierKey } = require('./catalog');

const itemsOf = (data) => {
  if (Array.isArray(data)) return data;
  for (const key of ['items', 'samples', 'data', 'events']) {
    if (data && Array.isArray(data[key])) return data[key];
  }
  return [];
};

const triggerOf = (event) => {
  const type = event.type;
  const noun = event.noun || humanize(type.split('.')[0]);

  const performSubscribe = async (z, bundle) => {
    const response = await z.request({
      url: apiUrl(bundle, '/v1/hooks'),
      method: 'POST',
      body: { event: type, target_url: bundle.targetUrl },
    });
    // Kept by Zapier as bundle.subscribeData: `id` to unsubscribe, `secret` to verify.
    return response.data;
  };

  const performUnsubscribe = async (z, bundle) => {
    const id = bundle.subscribeData && bundle.subscribeData.id;
    if (!id) return {};
    // 204 also when already gone, so turning a zap off twice is harmless.
    await z.request({ url: apiUrl(bundle, `/v1/hooks/${encodeURIComponent(id)}`), method: 'DELETE' });
    return {};
  };

  const perform = async (z, bundle) => {
    const secret = bundle.subscribeData && bundle.subscribeData.secret;
    if (verify(bundle.rawRequest, secret) === 'invalid') {
      throw new z.errors.Error('The delivery signature does not match this subscription.', 'INVALID_SIGNATURE', 401);
    }
    const body = bundle.cleanedRequest;
    return body && typeof body === 'object' && !Array.isArray(body) && body.id ? [body] : [];
  };

  const performList = async (z, bundle) => {
    const response = await z.request({
      url: apiUrl(bundle, `/v1/events/${encodeURIComponent(type)}/samples`),
      method: 'GET',
      params: { limit: 3 },
    });
    return itemsOf(response.data);
  };

  return {
    key: zapierKey(type),
    noun,
    display: {
      label: titleCase(event.title || `New ${noun}`),
      description: triggersWhen(event.description || `a ${type} event.`),
    },
    operation: {
      type: 'hook',
      performSubscribe,
      performUnsubscribe,
      perform,
      performList,
      // What a delivery carries under the default policy (masked, dropped fields
      // absent): the catalog's delivered sample and schema, never the publisher's.
      sample: event.delivered_sample || event.sample,
      outputFields: [
        { key: 'id', label: 'Event ID', type: 'string' },
        { key: 'type', label: 'Event Type', type: 'string' },
        { key: 'occurred_at', label: 'Occurred At', type: 'datetime' },
        ...outputFieldsOf(event.delivered_schema || event.data_schema || {}, { prefix: ['data'] }),
      ],
    },
  };
};

module.exports = { triggerOf, itemsOf, titleCase, triggersWhen };
