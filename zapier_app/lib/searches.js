'use strict';

// One search per catalog action of kind "search" (e.g. find_lead): POST
// /v1/actions/{action} as a create does, answering the found items as Zapier expects
// (an array; [] when nothing matched, which Zapier shows as "nothing found" and a
// search-or-create turns into its create).

const { apiUrl } = require('./http');
const { bodyOf, humanize, inputFieldsOf, outputFieldsOf, resolver } = require('./fields');
const { idempotencyKey } = require('./idempotency');
const { zapierKey } = require('./catalog');
const { titleCase } = require('./triggers');

const withArticle = (noun) => `${/^[aeiou]/i.test(noun) ? 'an' : 'a'} ${noun}`;

// The array of matches in a search's outputs: its one array-of-objects property.
const itemsKey = (outputSchema) => {
  const deref = resolver(outputSchema);
  const props = deref(outputSchema).properties || {};
  const found = Object.entries(props).find(([, s]) => deref(s).type === 'array');
  return found ? found[0] : null;
};

const searchOf = (action) => {
  const name = action.name;
  const inputSchema = action.input_schema || { type: 'object', properties: {} };
  const outputSchema = action.output_schema || { type: 'object', properties: {} };
  const key = itemsKey(outputSchema);
  const deref = resolver(outputSchema);
  const itemSchema = key ? deref(deref(outputSchema).properties[key]).items || {} : {};
  const noun = action.noun || humanize(name.split('_').slice(1).join('_') || name);

  const perform = async (z, bundle) => {
    const body = bodyOf(inputSchema, bundle.inputData || {});
    const response = await z.request({
      url: apiUrl(bundle, `/v1/actions/${encodeURIComponent(name)}`),
      method: 'POST',
      // A search changes nothing: the derived key only answers a retried call again.
      headers: { 'Content-Type': 'application/json', 'Idempotency-Key': idempotencyKey(name, body) },
      body,
    });
    const outputs = (response.data && response.data.outputs) || {};
    const items = key ? outputs[key] : null;
    return Array.isArray(items) ? items : [];
  };

  const sampleItems = key && action.sample ? action.sample[key] : null;
  return {
    key: zapierKey(name),
    noun,
    display: {
      label: titleCase(action.title || humanize(name)),
      description: action.description || `Finds ${withArticle(noun.toLowerCase())} in the hub.`,
    },
    operation: {
      inputFields: inputFieldsOf(inputSchema),
      perform,
      sample: Array.isArray(sampleItems) && sampleItems.length ? sampleItems[0] : {},
      outputFields: outputFieldsOf({ ...itemSchema, $defs: outputSchema.$defs }, { root: outputSchema }),
    },
  };
};

// "Find or Create Lead": the search, then its paired create when nothing matched.
const searchOrCreateOf = (action) => ({
  key: zapierKey(action.name),
  display: {
    label: `Find or Create ${action.noun || humanize(action.name)}`,
    description: `Finds ${withArticle((action.noun || 'record').toLowerCase())}, or creates one if none matches.`,
  },
  search: zapierKey(action.name),
  create: zapierKey(action.creates_with),
});

module.exports = { searchOf, searchOrCreateOf, itemsKey };
