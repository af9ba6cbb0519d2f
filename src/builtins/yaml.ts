// yaml.is_valid, yaml.marshal and yaml.unmarshal. A text is valid YAML when every document in it parses;
// unmarshal answers the first document, as Go's YAML decoding does.
import { YamlDepthError, parseYamlAsOpa, yamlDocumentsAsOpa } from '../json/yaml.js';
import { goYamlMessage } from '../json/yaml-errors.js';
import { BuiltinError, str } from './args.js';
import { arg, fn, t, type BuiltinEntry } from './declarations.js';
import { keepsNumberText } from './rego-value.js';
import { yamlMarshal } from './yaml-marshal.js';


function isValid(text: unknown): boolean {
  if (typeof text !== 'string') return false;
  try {
    return yamlDocumentsAsOpa(text).every((d) => d.errors.length === 0);
  } catch (err) {
    if (err instanceof YamlDepthError) return false;
    throw err;
  }
}

function unmarshal(text: unknown): unknown {
  const source = str('yaml.unmarshal', 1, text);
  try {
    return parseYamlAsOpa(source);
  } catch (err) {
    if (err instanceof YamlDepthError) throw new BuiltinError('yaml.unmarshal', err.message);
    if (err instanceof Error && err.name.startsWith('YAML')) throw new BuiltinError('yaml.unmarshal', goYamlMessage(err, source));
    throw err;
  }
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
