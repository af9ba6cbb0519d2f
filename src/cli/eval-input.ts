// The input document of `verdict eval -i FILE` / `-I`, read as `opa eval` reads it: whatever the file's name,
// JSON when the text is JSON (through the JSON reader, so 12345678901234567890, 1e400, 1.0 and -0 keep their
// text), YAML otherwise (an empty file is null). What OPA cannot read it reports alone on stderr with exit
// code 2, not as an {"errors": …} document: "unable to parse input: …", "unable to process input: invalid
// number: number too big", or Go's file error ("open PATH: no such file or directory").
import { readFile } from 'node:fs/promises';
import { someNumberText } from '../json/kinds.js';
import { beyondOpaRange } from '../json/number-text.js';
import { JsonSyntaxError, readJson } from '../json/reader.js';
import { parseYamlAsOpa } from '../json/yaml.js';
import { goYamlMessage } from '../json/yaml-errors.js';
import { LoadError } from './load.js';

/** An input OPA would not read; the command prints the message alone on stderr. */
export class InputError extends LoadError {}

/** The input given by text (stdin) or by file; undefined when neither is given. Throws InputError. */
export async function readEvalInput(options: { inputFile?: string; inputText?: string }): Promise<unknown> {
  if (options.inputText !== undefined) return parseEvalInput(options.inputText);
  if (options.inputFile === undefined) return undefined;
  return parseEvalInput(await readInputFile(options.inputFile));
}

export function parseEvalInput(text: string): unknown {
  let value: unknown;
  try {
    value = readJson(text);
  } catch (err) {
    if (!(err instanceof JsonSyntaxError)) throw err;
    try {
      value = parseYamlAsOpa(text) ?? null;
    } catch (yamlErr) {
      throw new InputError(`unable to parse input: ${goYamlMessage(yamlErr as Error, text)}`);
    }
  }
  if (someNumberText(value, beyondOpaRange)) throw new InputError('unable to process input: invalid number: number too big');
  return value;
}

async function readInputFile(path: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    throw new InputError(goFileError(path, err as NodeJS.ErrnoException));
  }
}

/** Go's *PathError text for a failed os.ReadFile: the operation, the path as given, the errno's words. */
function goFileError(path: string, err: NodeJS.ErrnoException): string {
  if (err.code === 'EISDIR') return `read ${path}: is a directory`;
  const words: Record<string, string> = { ENOENT: 'no such file or directory', EACCES: 'permission denied', ENOTDIR: 'not a directory' };
  return `open ${path}: ${words[err.code ?? ''] ?? err.message}`;
}
