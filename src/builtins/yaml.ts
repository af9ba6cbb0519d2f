// yaml.is_valid, yaml.marshal and yaml.unmarshal. A text is valid YAML when every document in it parses;
// unmarshal answers the first document, as Go's YAML decoding does.
import type { Document } from 'yaml';
import { YamlDepthError, documentValue, yamlDocumentsAsOpa } from '../json/yaml.js';
import { goYamlMessage } from '../json/yaml-errors.js';
import { BuiltinError, str } from './args.js';
import { arg, fn, t, type BuiltinEntry } from './declarations.js';
import { keepsNumberText } from './rego-value.js';
import { yamlMarshal } from './yaml-marshal.js';


function documents(text: string) {
  const docs = yamlDocumentsAsOpa(text);
  return Array.isArray(docs) ? docs : [docs];
}

function isValid(text: unknown): boolean {
  if (typeof text !== 'string') return false;
  try {
    return documents(text).every((d) => d.errors.length === 0);
  } catch (err) {
    if (err instanceof YamlDepthError) return false;
    throw err;
  }
}

function unmarshal(text: unknown): unknown {
  const source = str('yaml.unmarshal', 1, text);
  let docs;
  try {
    docs = documents(source);
  } catch (err) {
    if (err instanceof YamlDepthError) throw new BuiltinError('yaml.unmarshal', err.message);
    throw err;
  }
  const broken = docs.find((d) => d.errors.length > 0);
  if (broken) throw new BuiltinError('yaml.unmarshal', goYamlMessage(broken.errors[0]!, source));
  return docs.length === 0 ? null : documentValue(docs[0]! as Document);
}

export const yamlBuiltins: readonly BuiltinEntry[] = [
  {
    name: 'yaml.is_valid',
    decl: fn([arg('x', t.string)], arg('result', t.boolean)),
    categories: ['encoding'],
    host: isValid,
  },
  {
    name: 'yaml.marshal',
    decl: fn([arg('x', t.any)], arg('y', t.string)),
    categories: ['encoding'],
    host: keepsNumberText(yamlMarshal),
  },
  {
    name: 'yaml.unmarshal',
    decl: fn([arg('x', t.string)], arg('y', t.any)),
    categories: ['encoding'],
    host: unmarshal,
  },
];
