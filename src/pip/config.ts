// The `pip` section of the Verdict config: validated against schemas/pip.schema.json, then turned into the
// normalised shape the enrichment step uses (durations in ms, defaults filled, input paths parsed).

import { lazyRequire } from '../lazy-require.js';
import pipSchema from '../../schemas/pip.schema.json' with { type: 'json' };
import type { JsonValue } from './adapter.js';
import { PipConfigError } from './errors.js';
import { parseInputPath, type InputPath } from './input-path.js';

export type OnError = { kind: 'deny' } | { kind: 'skip' } | { kind: 'default'; value: JsonValue };

export interface AdapterConfig {
  name: string;
  type: 'http' | 'jwt' | 'sql' | 'ldap' | 'file';
  settings: Record<string, unknown>;
  timeoutMs: number;
  cache: { ttlMs: number; negativeTtlMs: number; maxEntries: number };
  onError: OnError;
}

export interface EnrichRule {
  /** Normalised path prefixes: no leading/trailing slashes; "" matches every path. */
  paths: string[];
  adapter: string;
  /** Lookup parameter → input path, in parameter-name order. */
  inputs: Record<string, InputPath>;
  /** Adapters whose results (input.pip.<name>...) this rule's inputs read; they run first. */
  dependsOn: string[];
}

export interface PipConfig {
  callerPip: 'reject' | 'strip';
  adapters: Record<string, AdapterConfig>;
  enrich: EnrichRule[];
}

/** The JSON Schema of the `pip` config section, for the server to embed in its config schema. */
export const pipConfigSchema = pipSchema;

// Compiled on first use (ajv is loaded then): commands that never read a pip section do not pay for it.
const ajv = lazyRequire<typeof import('ajv')>('ajv');
let validator: ReturnType<InstanceType<typeof import('ajv').Ajv>['compile']> | undefined;
const pipValidator = () => (validator ??= new (ajv().Ajv)({ allErrors: true, strict: false }).compile(pipSchema));

export const DEFAULTS = {
  timeoutMs: 500,
  ttlMs: 60_000,
  negativeTtlMs: 5_000,
  maxEntries: 10_000,
} as const;

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** A config duration (ms number, or "250ms" / "2s" / "5m" / "1h") in ms. */
export function durationMs(value: unknown, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value === 'number') return value;
  const m = /^([0-9]+(?:\.[0-9]+)?)(ms|s|m|h)$/.exec(String(value));
  if (!m) throw new PipConfigError(`invalid duration "${String(value)}"`);
  return Number(m[1]) * UNIT_MS[m[2]];
}

export function normalisePath(path: string): string {
  return path.replace(/^\/+|\/+$/g, '');
}

interface RawAdapter {
  type: AdapterConfig['type'];
  settings?: Record<string, unknown>;
  timeout?: number | string;
  cache?: { ttl?: number | string; max_entries?: number; negative_ttl?: number | string };
  on_error?: 'deny' | 'skip' | { default: JsonValue };
}

interface RawPip {
  caller_pip?: 'reject' | 'strip';
  adapters?: Record<string, RawAdapter>;
  enrich?: { paths: string[]; adapter: string; inputs?: Record<string, string> }[];
}

export function parsePipConfig(raw: unknown): PipConfig {
  const section = raw ?? {};
  const validate = pipValidator();
  if (!validate(section)) {
    const problems = (validate.errors ?? []).map((e) => `pip${e.instancePath.replace(/\//g, '.')} ${e.message}`);
    throw new PipConfigError(`invalid pip config: ${[...new Set(problems)].join('; ')}`);
  }
  const pip = section as RawPip;
  const adapters: Record<string, AdapterConfig> = {};
  for (const [name, a] of Object.entries(pip.adapters ?? {})) {
    const onError: OnError =
      a.on_error === undefined || a.on_error === 'deny'
        ? { kind: 'deny' }
        : a.on_error === 'skip'
          ? { kind: 'skip' }
          : { kind: 'default', value: a.on_error.default };
    adapters[name] = {
      name,
      type: a.type,
      settings: a.settings ?? {},
      timeoutMs: durationMs(a.timeout, DEFAULTS.timeoutMs),
      cache: {
        ttlMs: durationMs(a.cache?.ttl, DEFAULTS.ttlMs),
        negativeTtlMs: durationMs(a.cache?.negative_ttl, DEFAULTS.negativeTtlMs),
        maxEntries: a.cache?.max_entries ?? DEFAULTS.maxEntries,
      },
      onError,
    };
  }
  const enrich = (pip.enrich ?? []).map((rule, i): EnrichRule => {
    const where = `pip.enrich[${i}]`;
    if (!adapters[rule.adapter]) throw new PipConfigError(`${where}: no adapter named "${rule.adapter}" in pip.adapters`);
    const inputs: Record<string, InputPath> = {};
    const dependsOn = new Set<string>();
    // Sorted by name, so a lookup's cache key can be built in one pass in a fixed order.
    for (const [param, text] of Object.entries(rule.inputs ?? {}).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
      const path = parseInputPath(text, `${where}.inputs.${param}`);
      if (path.segments[0] === 'pip') {
        const other = path.segments[1];
        if (other === undefined || !adapters[other]) {
          throw new PipConfigError(`${where}.inputs.${param}: "${text}" reads no configured adapter's result`);
        }
        if (other === rule.adapter) throw new PipConfigError(`${where}.inputs.${param}: adapter "${other}" cannot feed itself`);
        dependsOn.add(other);
      }
      inputs[param] = path;
    }
    return { paths: rule.paths.map(normalisePath), adapter: rule.adapter, inputs, dependsOn: [...dependsOn] };
  });
  rejectDependencyCycles(enrich);
  return { callerPip: pip.caller_pip ?? 'reject', adapters, enrich };
}

function rejectDependencyCycles(rules: EnrichRule[]): void {
  const edges = new Map<string, Set<string>>();
  for (const r of rules) {
    const set = edges.get(r.adapter) ?? new Set<string>();
    r.dependsOn.forEach((d) => set.add(d));
    edges.set(r.adapter, set);
  }
  const state = new Map<string, 'visiting' | 'done'>();
  const visit = (name: string, trail: string[]): void => {
    if (state.get(name) === 'done') return;
    if (state.get(name) === 'visiting') {
      throw new PipConfigError(`pip.enrich: adapters depend on each other in a cycle: ${[...trail, name].join(' → ')}`);
    }
    state.set(name, 'visiting');
    for (const next of edges.get(name) ?? []) visit(next, [...trail, name]);
    state.set(name, 'done');
  };
  for (const name of edges.keys()) visit(name, []);
}
