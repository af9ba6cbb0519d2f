// The error a bad configuration is refused with, in a module of its own: modules that only name it (the tracing
// settings, which every command that evaluates Rego reaches through http.send's client) need not load the
// configuration reader with its schemas.
export class ConfigError extends Error {
  override name = 'ConfigError';
}
