'use strict';

// Dynamic dropdowns: a hidden trigger per choice list of the hub (GET
// /v1/choices/{name}), and the action inputs that use one. The lists are read when a
// user edits the zap, so a value the hub adds shows up without a new app version.

const { apiUrl } = require('./http');
const { catalog } = require('./catalog');

const choicesApi = () => (catalog.api && catalog.api.choices) || { path: '/v1/choices/{name}', fields: {} };

const triggerKey = (name) => `choices_${name}`;

const names = () => [...new Set(Object.values(choicesApi().fields).flatMap((f) => Object.values(f)))].sort();

const labelOf = (name) =>
  name
    .split('_')
    .map((w) => w[0].toUpperCase() + w.slice(1))
    .join(' ');

const choiceTriggerOf = (name) => ({
  key: triggerKey(name),
  noun: 'Choice',
  display: {
    label: `${labelOf(name)} Choices`,
    description: `Triggers when the hub lists the values of ${labelOf(name).toLowerCase()} (powers a dropdown).`,
    hidden: true,
  },
  operation: {
    perform: async (z, bundle) => {
      const response = await z.request({
        url: apiUrl(bundle, choicesApi().path.replace('{name}', encodeURIComponent(name))),
        method: 'GET',
      });
      const items = (response.data && response.data.items) || [];
      return items.map((item) => ({ id: item.value, name: item.label }));
    },
    sample: { id: 'new', name: 'New' },
    outputFields: [
      { key: 'id', label: 'Value', type: 'string' },
      { key: 'name', label: 'Label', type: 'string' },
    ],
  },
});

// An action's input fields with the hub's dropdowns in place of the static choices.
const withDropdowns = (actionName, fields) => {
  const dynamic = choicesApi().fields[actionName] || {};
  return fields.map((field) => {
    const name = dynamic[field.key];
    if (!name) return field;
    const { choices, ...rest } = field;
    return { ...rest, dynamic: `${triggerKey(name)}.id.name` };
  });
};

module.exports = { choiceTriggerOf, names, withDropdowns, triggerKey };
