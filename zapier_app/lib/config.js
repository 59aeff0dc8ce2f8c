'use strict';

// The hosted hub. Self-hosted installs type their own address in the connection's
// "Hub URL" field; a private deployment of this app may instead set HUB_DEFAULT_BASE_URL
// with `zapier-platform env:set <version> HUB_DEFAULT_BASE_URL=https://...`.
const HOSTED_BASE_URL = 'https://hub.example.com';

const defaultBaseUrl = () => process.env.HUB_DEFAULT_BASE_URL || HOSTED_BASE_URL;

// Only http(s) origins (plus an optional path prefix) are accepted so a typo cannot
// send the API key somewhere unexpected (e.g. a `file:` or `javascript:` URL).
const baseUrlOf = (authData = {}) => {
  const raw = String(authData.base_url || '').trim() || defaultBaseUrl();
  let url;
  try {
    url = new URL(raw);
  } catch (err) {
    throw new Error(`The Hub URL "${raw}" is not a valid URL.`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new Error(`The Hub URL must start with https:// (got ${url.protocol}).`);
  }
  if (url.search || url.hash || url.username || url.password) {
    throw new Error('The Hub URL must not contain credentials, a query or a fragment.');
  }
  return `${url.origin}${url.pathname.replace(/\/+$/, '')}`;
};

module.exports = { HOSTED_BASE_URL, baseUrlOf, defaultBaseUrl };
