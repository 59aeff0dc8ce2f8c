'use strict';

// One create per catalog action: POST /v1/actions/{action} with the body built from
// the action's input schema and an Idempotency-Key (see lib/idempotency.js).

const { apiUrl } = require('./http');
const { bodyOf, humanize, inputFieldsOf, outputFieldsOf } = require('./fields');
const { idempotencyKey } = require('./idempotency');
const { zapierKey } = require('./catalog');
const { withDropdowns } = require('./choices');

const KEY_FIELD = 'idempotency_key';

const keyFieldName = (schema) => ((schema.properties || {})[KEY_FIELD] ? `zap_${KEY_FIELD}` : KEY_FIELD);

const keyField = (name) => ({
  key: name,
  label: 'Idempotency Key',
  type: 'string',
  required: false,
  helpText:
    'Optional. Map something unique to the thing that caused this step, usually the ' +
    "trigger's **Event ID**: the hub then runs this action once per value, however " +
    'often Zapier retries or replays the step. Left empty, the key is derived from the ' +
    'action and its inputs, so identical inputs within 24 hours run once.',
});

const createOf = (action) => {
  const name = action.name;
  const inputSchema = action.input_schema || { type: 'object', properties: {} };
  const keyName = keyFieldName(inputSchema);
  const noun = action.noun || humanize(name.split('_').slice(1).join('_') || name);

  const perform = async (z, bundle) => {
    const inputs = bundle.inputData || {};
    const body = bodyOf(inputSchema, inputs);
    const key = idempotencyKey(name, body, inputs[keyName]);
    const response = await z.request({
      url: apiUrl(bundle, `/v1/actions/${encodeURIComponent(name)}`),
      method: 'POST',
      headers: { 'Content-Type': 'application/json', 'Idempotency-Key': key },
      body,
    });
    return {
      ...response.data,
      idempotency_key: key,
      replayed: response.headers.get('idempotent-replayed') === 'true',
    };
  };

  return {
    key: zapierKey(name),
    noun,
    display: {
      label: action.title || humanize(name),
      description: action.description || `Runs the ${name} action in the hub.`,
    },
    operation: {
      inputFields: [...withDropdowns(name, inputFieldsOf(inputSchema)), keyField(keyName)],
      perform,
      sample: {
        execution_id: 'exe_sample',
        action: name,
        status: 'succeeded',
        outputs: action.sample || {},
        idempotency_key: `zap:${name}:auto:sample`,
        replayed: false,
      },
      outputFields: [
        { key: 'execution_id', label: 'Execution ID', type: 'string' },
        { key: 'status', label: 'Status', type: 'string' },
        ...outputFieldsOf(action.output_schema || {}, { prefix: ['outputs'] }),
        { key: 'idempotency_key', label: 'Idempotency Key Sent', type: 'string' },
        { key: 'replayed', label: 'Replayed (already ran)', type: 'boolean' },
      ],
    },
  };
};

module.exports = { createOf };
