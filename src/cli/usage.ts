// The verdict command line's usage text and its way of failing (message on stderr, exit code 2).
export const usage = `usage: verdict <command> [flags]   (verdict <command> --help describes each)

  run        start the server (opa run's flags)
  eval       evaluate a query (opa eval's flags and formats)
  exec       evaluate a decision against input files (opa exec's output)
  test       run Rego tests (opa test's flags and reports)
  check      check that policies parse and compile (opa check's output)
  fmt        format Rego files as opa fmt does (-l, -d, -w, --fail)
  parse      print a module's AST (opa parse's pretty tree or JSON)
  build      build a bundle: -t rego (default), wasm or plan
  sign       sign a bundle: verdict sign --signing-key KEY [--signing-alg ALG] [--key-id ID] [--scope SCOPE]
               [--claims-file FILE] [--exclude-files GLOB ...] -o OUTPUT.tar.gz BUNDLE_PATH
  decisions  read the decision log: tail|search|show|export [--db FILE] [options]
  replay     re-evaluate logged decisions against candidate bundles and report what changes
  bench      time a query's evaluation on Verdict's engine (opa bench's output)
  deps       list the base and virtual documents a query depends on
  inspect    list a bundle's manifest, namespaces, required capabilities and annotations
  capabilities  print Verdict's builtins and features in opa capabilities' JSON
  version    print the version, Rego version and wasm ABI`;

export function fail(message: string): never {
  console.error(`verdict: ${message}`);
  process.exit(2);
}
