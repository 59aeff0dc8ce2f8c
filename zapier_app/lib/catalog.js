'use strict';

// The catalog the app is built from: `hub export zapier > zapier_app/catalog.json`.
// tests/apps/ fails when the committed file differs from what the hub exports, so the
// app's triggers and actions always match the hub they talk to.

const catalog = require('../catalog.json');

// Zapier keys: letters, digits and underscores, starting with a letter.
const zapierKey = (name) => String(name).replace(/[^a-zA-Z0-9_]+/g, '_').replace(/^[^a-zA-Z]+/, '');

const actions = () => catalog.actions || [];
const events = () => catalog.events || [];

module.exports = { catalog, actions, events, zapierKey };
