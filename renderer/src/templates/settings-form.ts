// The "New appliance" and settings forms are generated from a template's settings schema; this
// converts what the inputs hold into typed values and checks each field with the engine's own
// validator (app/templates/schema.ts), so the form and the engine never disagree.
import {
  resolveSettings,
  type SettingProperty,
  type SettingsSchema,
  type SettingValue,
} from '../../../app/templates/schema.ts';
import { KilnError } from '../../../app/errors.ts';

// Number inputs bound with bind:value hold numbers (or null when empty), text inputs strings.
export type FormValues = Record<string, string | boolean | number | null>;

/** The form's starting values: the stored settings, else the defaults. */
export function initialValues(schema: SettingsSchema, stored: Record<string, unknown> = {}): FormValues {
  const out: FormValues = {};
  for (const [key, p] of Object.entries(schema.properties)) {
    const v = stored[key] ?? p.default;
    if (p.type === 'boolean') out[key] = v === true;
    else if (p.type === 'integer') out[key] = typeof v === 'number' ? v : null;
    else out[key] = v === undefined ? '' : String(v);
  }
  return out;
}

function toValue(p: SettingProperty, raw: string | boolean | number | null): SettingValue | undefined {
  if (p.type === 'boolean') return raw === true;
  if (typeof raw === 'number') return p.type === 'integer' ? raw : String(raw);
  if (typeof raw !== 'string') return undefined;
  if (p.type === 'integer') return raw.trim() === '' ? undefined : Number(raw.trim());
  return raw;
}

/** Typed settings to send to the engine (empty optional fields fall back to defaults there). */
export function settingsFrom(schema: SettingsSchema, values: FormValues): Record<string, SettingValue> {
  const out: Record<string, SettingValue> = {};
  for (const [key, p] of Object.entries(schema.properties)) {
    const v = toValue(p, values[key] ?? '');
    if (v === undefined) continue;
    if (p.type === 'string' && v === '' && !(schema.required ?? []).includes(key) && p.default === undefined)
      continue;
    out[key] = v;
  }
  return out;
}

/** Field -> message for every invalid field. */
export function fieldErrors(schema: SettingsSchema, values: FormValues): Record<string, string> {
  const errors: Record<string, string> = {};
  const typed = settingsFrom(schema, values);
  for (const [key, p] of Object.entries(schema.properties)) {
    const v = toValue(p, values[key] ?? '');
    if (p.type === 'integer' && typeof v === 'number' && Number.isNaN(v)) {
      errors[key] = `${p.title} must be a whole number.`;
      continue;
    }
    if (v === undefined && (schema.required ?? []).includes(key) && p.default === undefined) {
      errors[key] = `${p.title} is required.`;
      continue;
    }
    try {
      resolveSettings(schema, key in typed ? { [key]: typed[key] } : {});
    } catch (err) {
      if (err instanceof KilnError && err.field === key) errors[key] = err.message;
    }
  }
  return errors;
}
