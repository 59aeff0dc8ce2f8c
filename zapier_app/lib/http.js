'use strict';

const { baseUrlOf } = require('./config');

const apiUrl = (bundle, path) => `${baseUrlOf(bundle.authData)}${path}`;

// beforeRequest middleware: the API key on every call, JSON both ways. Zapier's own
// 429 handling is turned off so lib/errors.js can read the problem's detail too.
const addAuth = (request, z, bundle) => {
  request.headers = request.headers || {};
  const key = bundle.authData && bundle.authData.api_key;
  if (key) {
    request.headers.Authorization = `Bearer ${String(key).trim()}`;
  }
  request.headers.Accept = request.headers.Accept || 'application/json, application/problem+json';
  request.throwForThrottlingEarly = false;
  return request;
};

module.exports = { apiUrl, addAuth };
