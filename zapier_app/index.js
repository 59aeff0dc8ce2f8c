'use strict';

const { version: platformVersion } = require('zapier-platform-core');

const { version } = require('./package.json');
const authentication = require('./lib/authentication');
const { addAuth } = require('./lib/http');
const { handleProblems } = require('./lib/errors');
const { actions, events } = require('./lib/catalog');
const { triggerOf } = require('./lib/triggers');
const { createOf } = require('./lib/creates');
const { searchOf, searchOrCreateOf } = require('./lib/searches');
const { choiceTriggerOf, names: choiceNames } = require('./lib/choices');

const byKey = (items) => Object.fromEntries(items.map((item) => [item.key, item]));

module.exports = {
  version,
  platformVersion,
  authentication,
  beforeRequest: [addAuth],
  afterResponse: [handleProblems],
  triggers: byKey([...events().map(triggerOf), ...choiceNames().map(choiceTriggerOf)]),
  creates: byKey(actions().filter((a) => a.kind !== 'search').map(createOf)),
  searches: byKey(actions().filter((a) => a.kind === 'search').map(searchOf)),
  searchOrCreates: byKey(
    actions()
      .filter((a) => a.kind === 'search' && a.creates_with)
      .map(searchOrCreateOf),
  ),
};
