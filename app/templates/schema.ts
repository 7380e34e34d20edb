// The subset of JSON Schema that templates use for their settings (resources/templates/README.md):
// flat objects of string / integer / boolean properties. Validation errors name the field and say
// what a valid value looks like.
import { KilnError } from '../errors.ts';

export interface StringProperty {
  type: 'string';
  title: string;
  description?: string;
  default?: string;
  minLength?: number;
  maxLength?: number;
  pattern?: string;
  enum?: string[];
  format?: 'hostname' | 'ipv4' | 'ipv4-cidr';
  'x-kiln-asset'?: 'folder' | 'file';
  /** a file asset compiled at build time by this toolchain asset compiler (app/build/generate.ts) */
  'x-kiln-compile'?: string;
}
export interface IntegerProperty {
  type: 'integer';
  title: string;
  description?: string;
  default?: number;
  minimum?: number;
  maximum?: number;
}
export interface BooleanProperty {
  type: 'boolean';
  title: string;
  description?: string;
  default?: boolean;
}
export type SettingProperty = StringProperty | IntegerProperty | BooleanProperty;

export interface SettingsSchema {
  type: 'object';
  properties: Record<string, SettingProperty>;
  required?: string[];
  additionalProperties?: false;
}

export type SettingValue = string | number | boolean;
export type Settings = Record<string, SettingValue>;

const HOSTNAME =
  /^(?=.{1,253}$)[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?)*$/;

function isIpv4(s: string): boolean {
  const parts = s.split('.');
  return parts.length === 4 && parts.every((p) => /^(0|[1-9][0-9]{0,2})$/.test(p) && Number(p) <= 255);
}

function checkFormat(format: StringProperty['format'], v: string): string | undefined {
  switch (format) {
    case 'hostname':
      return HOSTNAME.test(v) ? undefined : 'a hostname (letters, digits, dashes and dots)';
    case 'ipv4':
      return isIpv4(v) ? undefined : 'an IPv4 address such as 10.0.2.15';
    case 'ipv4-cidr': {
      const [ip, len, ...rest] = v.split('/');
      const ok =
        rest.length === 0 &&
        ip !== undefined &&
        isIpv4(ip) &&
        len !== undefined &&
        /^([0-9]|[12][0-9]|3[0-2])$/.test(len);
      return ok ? undefined : 'an IPv4 address with a prefix length, such as 10.0.2.15/24';
    }
    default:
      return undefined;
  }
}

function checkValue(key: string, p: SettingProperty, v: unknown): SettingValue {
  const bad = (what: string): never => {
    throw new KilnError('invalid_input', `Setting "${key}" (${p.title}) must be ${what}.`, key);
  };
  switch (p.type) {
    case 'string': {
      if (typeof v !== 'string') return bad('text');
      if (p.enum && !p.enum.includes(v)) return bad(`one of: ${p.enum.join(', ')}`);
      if (p.minLength !== undefined && v.length < p.minLength)
        return bad(`at least ${p.minLength} characters long`);
      if (p.maxLength !== undefined && v.length > p.maxLength)
        return bad(`at most ${p.maxLength} characters long`);
      if (p.pattern !== undefined && !new RegExp(p.pattern, 'u').test(v))
        return bad(`text matching ${p.pattern}`);
      const f = checkFormat(p.format, v);
      if (f) bad(f);
      return v;
    }
    case 'integer': {
      const n = typeof v === 'string' && /^-?[0-9]+$/.test(v.trim()) ? Number(v) : v;
      if (typeof n !== 'number' || !Number.isInteger(n)) return bad('a whole number');
      if (p.minimum !== undefined && n < p.minimum) return bad(`at least ${p.minimum}`);
      if (p.maximum !== undefined && n > p.maximum) return bad(`at most ${p.maximum}`);
      return n;
    }
    case 'boolean': {
      if (typeof v === 'boolean') return v;
      if (v === 'true' || v === 'yes' || v === '1') return true;
      if (v === 'false' || v === 'no' || v === '0') return false;
      return bad('true or false');
    }
  }
}

/**
 * Validates settings against a template's schema and fills in defaults. Values given as text
 * (from the CLI's --set key=value) are converted to the property's type.
 */
export function resolveSettings(schema: SettingsSchema, input: Record<string, unknown>): Settings {
  const out: Settings = {};
  for (const key of Object.keys(input)) {
    if (!(key in schema.properties)) {
      const known = Object.keys(schema.properties).join(', ') || '(none)';
      throw new KilnError(
        'invalid_input',
        `Unknown setting "${key}". This template's settings are: ${known}.`,
        key,
      );
    }
  }
  for (const [key, p] of Object.entries(schema.properties)) {
    const given = input[key];
    if (given !== undefined) out[key] = checkValue(key, p, given);
    else if (p.default !== undefined) out[key] = p.default;
    else if (schema.required?.includes(key)) {
      throw new KilnError('invalid_input', `Setting "${key}" (${p.title}) is required.`, key);
    }
  }
  return out;
}

/** Checks that a manifest's schema stays inside the supported subset (a template author's error). */
export function checkSchema(schema: unknown, where: string): SettingsSchema {
  const fail = (msg: string): never => {
    throw new Error(`${where}: ${msg}`);
  };
  if (typeof schema !== 'object' || schema === null) return fail('settings must be an object schema');
  const s = schema as Partial<SettingsSchema>;
  if (s.type !== 'object') fail('settings.type must be "object"');
  if (typeof s.properties !== 'object' || s.properties === null)
    return fail('settings.properties is missing');
  for (const [key, p] of Object.entries(s.properties)) {
    if (!['string', 'integer', 'boolean'].includes(p.type))
      fail(`property "${key}" has unsupported type "${p.type}"`);
    if (typeof p.title !== 'string') fail(`property "${key}" needs a title`);
    if (p.default !== undefined) checkValue(key, p, p.default);
  }
  for (const r of s.required ?? []) if (!(r in s.properties)) fail(`required property "${r}" is not defined`);
  return s as SettingsSchema;
}
