'use strict';

const { apiUrl } = require('./http');
const { HOSTED_BASE_URL } = require('./config');

// GET /v1/me answers who the key belongs to; Zapier shows it as the connection's label.
const test = async (z, bundle) => {
  const response = await z.request({ url: apiUrl(bundle, '/v1/me'), method: 'GET' });
  return response.data;
};

// "Acme – Sales zap" (and "(sandbox)" for sandbox integrations, whose actions touch
// nothing real) so a user with several connections picks the right one.
const connectionLabel = (z, bundle) => {
  const me = bundle.inputData || {};
  const label = [me.tenant_name, me.name].filter(Boolean).join(' – ');
  return me.mode === 'sandbox' ? `${label} (sandbox)` : label;
};

module.exports = {
  type: 'custom',
  fields: [
    {
      key: 'api_key',
      label: 'API Key',
      type: 'password',
      required: true,
      helpText:
        'The integration key your hub admin created for Zapier (it starts with `hk_`). ' +
        'It is shown once; after a rotation paste the new key here.',
    },
    {
      key: 'base_url',
      label: 'Hub URL',
      type: 'string',
      required: false,
      helpText: `Only for self-hosted installs, e.g. \`https://hub.yourcompany.com\`. Leave empty for ${HOSTED_BASE_URL}.`,
    },
  ],
  test,
  connectionLabel,
};
