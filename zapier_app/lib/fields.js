'use strict';

// JSON Schema (as msgspec writes it for the hub's catalog) -> Zapier fields, and the
// way back from a Zapier bundle to the JSON body the hub validates.
//
// Zapier inputs are flat, so nested objects become `parent__child` keys (the same
// separator Zapier uses for nested output), arrays of scalars become `list` fields and
// arrays of objects become line items (`children`, one level deep as Zapier allows).

const SEP = '__';
const MAX_HELP = 1000;
const LONG_TEXT = 1000;

const humanize = (name) =>
  String(name)
    .replace(/[_.-]+/g, ' ')
    .trim()
    .replace(/\b\w/g, (c) => c.toUpperCase())
    .replace(/\bId\b/g, 'ID')
    .replace(/\bUrl\b/g, 'URL');

// Resolves `$ref`s (`#/$defs/X`, `#/definitions/X`, `#/components/schemas/X`) against
// the root document the schema came from.
const resolver = (root) => {
  const deref = (schema, seen = new Set()) => {
    let current = schema || {};
    while (current && current.$ref) {
      const ref = current.$ref;
      if (seen.has(ref) || !ref.startsWith('#/')) {
        throw new Error(`Cannot resolve schema reference ${ref}`);
      }
      seen.add(ref);
      const target = ref
        .slice(2)
        .split('/')
        .reduce((node, part) => (node ? node[part.replace(/~1/g, '/').replace(/~0/g, '~')] : undefined), root);
      if (!target) {
        throw new Error(`Schema reference ${ref} points nowhere`);
      }
      const { $ref, ...siblings } = current;
      current = { ...target, ...siblings };
    }
    return current;
  };
  return deref;
};

// Unwraps `anyOf: [X, {type: null}]` (msgspec's `X | None`) into X and says whether
// null was allowed; other unions stay as they are.
const unwrapNullable = (schema, deref) => {
  const resolved = deref(schema);
  const variants = resolved.anyOf || resolved.oneOf;
  if (!variants) {
    if (Array.isArray(resolved.type) && resolved.type.includes('null')) {
      const types = resolved.type.filter((t) => t !== 'null');
      return { schema: { ...resolved, type: types.length === 1 ? types[0] : types }, nullable: true };
    }
    return { schema: resolved, nullable: false };
  }
  const nonNull = variants.filter((v) => deref(v).type !== 'null');
  if (nonNull.length === 1 && nonNull.length < variants.length) {
    const { anyOf, oneOf, ...rest } = resolved;
    return { schema: { ...deref(nonNull[0]), ...rest }, nullable: true };
  }
  return { schema: resolved, nullable: false };
};

const enumOf = (schema, deref) => {
  if (Array.isArray(schema.enum)) {
    return schema.enum.filter((v) => v !== null);
  }
  if (schema.const !== undefined) {
    return [schema.const];
  }
  const variants = schema.anyOf || schema.oneOf;
  if (variants && variants.every((v) => deref(v).const !== undefined)) {
    return variants.map((v) => deref(v).const);
  }
  return null;
};

const isObject = (schema) => schema.type === 'object' || (!schema.type && schema.properties);

const scalarType = (schema) => {
  const type = Array.isArray(schema.type) ? schema.type[0] : schema.type;
  if (type === 'integer') return 'integer';
  if (type === 'number') return 'number';
  if (type === 'boolean') return 'boolean';
  if (type === 'string' && schema.format === 'date-time') return 'datetime';
  if (type === 'string' && (schema.maxLength || 0) > LONG_TEXT) return 'text';
  return 'string';
};

const helpOf = (schema) => {
  const parts = [];
  if (schema.description) parts.push(String(schema.description).trim());
  const examples = schema.examples || (schema.example !== undefined ? [schema.example] : []);
  if (examples.length && (typeof examples[0] !== 'object' || examples[0] === null)) {
    parts.push(`Example: \`${examples[0]}\`.`);
  }
  const text = parts.join(' ').trim();
  if (!text) return undefined;
  return text.length > MAX_HELP ? `${text.slice(0, MAX_HELP - 1)}…` : text;
};

// A plan says, for every Zapier field, where its value goes in the JSON body.
//   {key, path, kind: 'scalar'|'list'|'dict'|'items', type, required, schema, children}
const planOf = (rootSchema, { root = rootSchema, prefix = [], labels = [], required = true } = {}) => {
  const deref = resolver(root);
  const objectSchema = deref(rootSchema);
  const requiredNames = new Set(objectSchema.required || []);
  const plan = [];
  for (const [name, propSchema] of Object.entries(objectSchema.properties || {})) {
    const { schema, nullable } = unwrapNullable(propSchema, deref);
    const path = [...prefix, name];
    const isRequired = required && requiredNames.has(name) && !nullable;
    // A Struct's own title is its class name: the property's name reads better.
    const ownTitle = propSchema.title || (isObject(schema) ? undefined : schema.title);
    const fieldLabels = [...labels, ownTitle || humanize(name)];
    const base = { key: path.join(SEP), path, required: isRequired, schema, label: fieldLabels.join(': ') };
    if (isObject(schema) && schema.properties && Object.keys(schema.properties).length) {
      plan.push(...planOf(schema, { root, prefix: path, labels: fieldLabels, required: isRequired }));
    } else if (isObject(schema)) {
      // Flat string maps are Zapier key/value fields; free-form objects (nested values)
      // are typed as JSON text.
      const extra = schema.additionalProperties && deref(schema.additionalProperties);
      const flat = extra && ['string', 'integer', 'number', 'boolean'].includes(extra.type);
      plan.push({ ...base, kind: flat ? 'dict' : 'json', type: 'text' });
    } else if (schema.type === 'array') {
      const { schema: items } = unwrapNullable(schema.items || {}, deref);
      if (isObject(items) && items.properties) {
        const children = planOf(items, { root, required: true }).filter((c) => c.kind !== 'items');
        plan.push({ ...base, kind: 'items', children });
      } else {
        plan.push({ ...base, kind: 'list', type: scalarType(items), choices: enumOf(items, deref) });
      }
    } else {
      plan.push({ ...base, kind: 'scalar', type: scalarType(schema), choices: enumOf(schema, deref) });
    }
  }
  return plan;
};

const choicesField = (choices) =>
  choices.map((value) => ({ value: String(value), label: humanize(value), sample: String(value) }));

const defaultOf = (schema) => {
  const value = schema.default;
  if (value === undefined || value === null || typeof value === 'object') return undefined;
  const text = String(value);
  return text ? text : undefined;
};

const fieldOf = (step) => {
  const field = { key: step.key, label: step.label };
  if (step.kind === 'items') {
    // Zapier allows no helpText beside children: each child carries its own.
    field.children = step.children.map((c) => fieldOf(c));
    field.required = step.required;
    return field;
  }
  const help = [helpOf(step.schema), step.kind === 'json' ? 'A JSON object.' : undefined].filter(Boolean).join(' ');
  if (help) field.helpText = help.length > MAX_HELP ? `${help.slice(0, MAX_HELP - 1)}…` : help;
  field.required = step.required;
  if (step.kind === 'dict') {
    field.dict = true;
  } else if (step.kind === 'json') {
    field.type = 'text';
  } else {
    field.type = step.type;
    if (step.kind === 'list') field.list = true;
    if (step.choices && step.choices.length) field.choices = choicesField(step.choices);
  }
  const dflt = defaultOf(step.schema);
  if (dflt !== undefined) field.default = dflt;
  return field;
};

const inputFieldsOf = (schema) => planOf(schema).map((step) => fieldOf(step));

const isEmpty = (v) => v === undefined || v === null || (typeof v === 'string' && v.trim() === '');

const coerce = (value, type) => {
  if (type === 'integer' || type === 'number') {
    if (typeof value === 'string' && value.trim() !== '' && !Number.isNaN(Number(value))) {
      const n = Number(value);
      return type === 'integer' && Number.isInteger(n) ? n : type === 'number' ? n : value;
    }
    return value;
  }
  if (type === 'boolean' && typeof value === 'string') {
    const v = value.trim().toLowerCase();
    if (['true', 'yes', '1', 'on'].includes(v)) return true;
    if (['false', 'no', '0', 'off'].includes(v)) return false;
  }
  return value;
};

const setPath = (target, path, value) => {
  let node = target;
  path.slice(0, -1).forEach((part) => {
    if (typeof node[part] !== 'object' || node[part] === null) node[part] = {};
    node = node[part];
  });
  node[path[path.length - 1]] = value;
};

const bodyOfPlan = (plan, values) => {
  const body = {};
  for (const step of plan) {
    const raw = values[step.key];
    if (isEmpty(raw)) continue;
    let value;
    if (step.kind === 'list') {
      const items = (Array.isArray(raw) ? raw : [raw]).filter((v) => !isEmpty(v));
      if (!items.length) continue;
      value = items.map((v) => coerce(v, step.type));
    } else if (step.kind === 'items') {
      const rows = (Array.isArray(raw) ? raw : [raw]).filter((row) => row && typeof row === 'object');
      value = rows.map((row) => bodyOfPlan(step.children, row)).filter((row) => Object.keys(row).length);
      if (!value.length) continue;
    } else if (step.kind === 'dict' || step.kind === 'json') {
      if (typeof raw === 'object') {
        value = raw;
      } else {
        try {
          value = JSON.parse(raw);
        } catch (err) {
          value = raw; // the hub answers 422 with the field's path
        }
      }
    } else {
      value = coerce(raw, step.type);
    }
    setPath(body, step.path, value);
  }
  return body;
};

// The JSON body for the hub from a bundle's inputData.
const bodyOf = (schema, inputData) => bodyOfPlan(planOf(schema), inputData || {});

// Output fields (labels for the Zap editor) of a JSON document described by `schema`,
// under `prefix` (e.g. `data`): `data__company_name`, `data__phones[]number`.
const outputFieldsOf = (schema, { root = schema, prefix = [] } = {}) => {
  const deref = resolver(root);
  const objectSchema = deref(schema);
  const fields = [];
  for (const [name, propSchema] of Object.entries(objectSchema.properties || {})) {
    const { schema: prop } = unwrapNullable(propSchema, deref);
    const path = [...prefix, name];
    const key = path.join(SEP);
    if (isObject(prop) && prop.properties) {
      fields.push(...outputFieldsOf(prop, { root, prefix: path }));
    } else if (prop.type === 'array') {
      const { schema: items } = unwrapNullable(prop.items || {}, deref);
      if (isObject(items) && items.properties) {
        for (const [childName, childSchema] of Object.entries(items.properties)) {
          const { schema: c } = unwrapNullable(childSchema, deref);
          if (!isObject(c) && c.type !== 'array') {
            fields.push({ key: `${key}[]${childName}`, label: humanize(`${path.join(' ')} ${childName}`), type: scalarType(c) });
          }
        }
      } else {
        fields.push({ key, label: humanize(path.join(' ')), list: true, type: scalarType(items) });
      }
    } else if (!isObject(prop)) {
      fields.push({ key, label: humanize(path.join(' ')), type: outputType(scalarType(prop)) });
    }
  }
  return fields;
};

const outputType = (type) => (type === 'text' ? 'string' : type);

module.exports = { bodyOf, humanize, inputFieldsOf, outputFieldsOf, planOf, resolver, SEP };
