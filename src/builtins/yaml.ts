// yaml.is_valid, yaml.marshal and yaml.unmarshal. A text is valid YAML when every document in it parses;
// unmarshal answers the first document, as Go's YAML decoding does.
import { parseAllDocuments, stringify } from 'yaml';
import { BuiltinError, str, type HostBuiltinTable } from './args.js';

function documents(text: string) {
  const docs = parseAllDocuments(text);
  return Array.isArray(docs) ? docs : [docs];
}

function isValid(text: unknown): boolean {
  if (typeof text !== 'string') return false;
  return documents(text).every((d) => d.errors.length === 0);
}

function unmarshal(text: unknown): unknown {
  const docs = documents(str('yaml.unmarshal', 1, text));
  const broken = docs.find((d) => d.errors.length > 0);
  if (broken) throw new BuiltinError('yaml.unmarshal', broken.errors[0]!.message);
  return docs.length === 0 ? null : (docs[0]!.toJS() as unknown);
}

export const yamlBuiltins: HostBuiltinTable = {
  'yaml.is_valid': isValid,
  'yaml.marshal': (v: unknown) => stringify(v),
  'yaml.unmarshal': unmarshal,
};
