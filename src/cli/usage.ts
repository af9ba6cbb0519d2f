// The verdict command line's usage text and its way of failing (message on stderr, exit code 2).
export const usage = `usage: verdict run [--addr ADDR ...] [--config-file FILE] [--log-level LEVEL] [--log-format json|text] [--workers N]
                   [--watch] [--verification-key KEY [--verification-key-id ID] [--signing-alg ALG] [--scope SCOPE]
                   [--exclude-files-verify GLOB ...]] [--diagnostic-addr ADDR ...] [--unix-socket-perm MODE]
                   [--tls-cert-file FILE --tls-private-key-file FILE [--tls-ca-cert-file FILE] [--min-tls-version 1.0|1.1|1.2|1.3]
                   [--tls-cert-refresh-period DURATION]] [--authentication token|tls|off] [--authorization basic|off]
                   [BUNDLE_PATH ...]
       verdict sign --signing-key KEY [--signing-alg ALG] [--key-id ID] [--scope SCOPE] [--claims-file FILE]
                    [--exclude-files GLOB ...] -o OUTPUT.tar.gz BUNDLE_PATH
       verdict decisions tail|search|show|export [--db FILE] [options]   (verdict decisions --help)
       verdict eval [-d PATH]... [-i INPUT_FILE] [--format json|pretty] QUERY
       verdict build [-o FILE] [-e ENTRYPOINT]... [-t wasm|plan] [-b] PATH...`;

export function fail(message: string): never {
  console.error(`verdict: ${message}`);
  process.exit(2);
}
