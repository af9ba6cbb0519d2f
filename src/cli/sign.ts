// `verdict sign`: signs a bundle directory or archive as `opa sign` does.
import { parseArgs } from 'node:util';
import { signBundle } from '../bundle/sign-bundle.js';
import { fail, usage } from './usage.js';

export async function sign(args: string[]): Promise<void> {
  let parsed;
  try {
    parsed = parseArgs({
      args,
      allowPositionals: true,
      options: {
        'signing-key': { type: 'string' },
        'signing-alg': { type: 'string' },
        'key-id': { type: 'string' },
        scope: { type: 'string' },
        'claims-file': { type: 'string' },
        'exclude-files': { type: 'string', multiple: true },
        output: { type: 'string', short: 'o' },
      },
    });
  } catch (err) {
    fail(`${(err as Error).message}\n${usage}`);
  }
  const { values, positionals } = parsed;
  if (!values['signing-key']) fail(`sign: --signing-key is required\n${usage}`);
  if (!values.output) fail(`sign: -o/--output is required\n${usage}`);
  if (positionals.length !== 1) fail(`sign: expected exactly one bundle directory or .tar.gz\n${usage}`);
  const signed = await signBundle({
    input: positionals[0]!,
    output: values.output,
    signingKey: values['signing-key'],
    algorithm: values['signing-alg'],
    keyId: values['key-id'],
    scope: values.scope,
    claimsFile: values['claims-file'],
    excludeFiles: values['exclude-files'],
  }).catch((err: Error) => fail(`sign: ${err.message}`));
  console.error(`verdict: signed ${signed.length} file(s) into ${values.output}`);
}
