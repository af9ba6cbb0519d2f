// The verdict command line's usage text and its way of failing (message on stderr, exit code 2).
export const usage = `usage: verdict run [flags] [PATH ...]   (opa run's flags; verdict run --help)
       verdict sign --signing-key KEY [--signing-alg ALG] [--key-id ID] [--scope SCOPE] [--claims-file FILE]
                    [--exclude-files GLOB ...] -o OUTPUT.tar.gz BUNDLE_PATH
       verdict decisions tail|search|show|export [--db FILE] [options]   (verdict decisions --help)
       verdict replay [--db FILE] [filters] [--last N] [--format table|json] BUNDLE_PATH...   (verdict replay --help)
       verdict eval [-d PATH]... [-i INPUT_FILE] [--format json|pretty] QUERY
       verdict build [-o FILE] [-e ENTRYPOINT]... [-t wasm|plan] [-b] PATH...
       verdict capabilities [--current | --version VERSION | --file FILE]`;

export function fail(message: string): never {
  console.error(`verdict: ${message}`);
  process.exit(2);
}
