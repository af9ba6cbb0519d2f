// The test policy every ext_authz test (ours and the differential one) evaluates: the request's
// x-case header picks which kind of decision comes back.
export const envoyTestPolicy = `package envoy.authz

case := input.attributes.request.http.headers["x-case"]

allow := true if case == "allow"

allow := false if case == "deny"

allow := {
  "allowed": true,
  "headers": {"x-user": "alice", "x-groups": ["admin", "dev"]},
  "response_headers_to_add": {"x-trace": "t-1"},
  "request_headers_to_remove": ["authorization"],
  "query_parameters_to_set": {"tenant": "t1", "tag": ["a", "b"]},
  "query_parameters_to_remove": ["debug"],
  "dynamic_metadata": {"user": "alice", "level": 3},
} if case == "headers"

allow := {
  "allowed": false,
  "http_status": 401,
  "body": "login required",
  "headers": [{"www-authenticate": "Bearer"}, {"x-reason": "no token"}],
} if case == "denied-object"

allow := {"allowed": false} if case == "denied-plain-object"

# The whole input comes back as dynamic metadata, so two servers' inputs can be compared.
allow := {"allowed": true, "dynamic_metadata": {"input": input}} if case == "echo"

allow := {"allowed": "yes"} if case == "allowed-not-boolean"

allow := {"headers": {"a": "b"}} if case == "allowed-missing"

allow := {"allowed": false, "http_status": 999} if case == "bad-status"

allow := {"allowed": true, "headers": {"x-n": 1}} if case == "bad-header"

allow := true if case == "conflict"

allow := false if case == "conflict"

allow := "yes" if case == "string-result"

# Deliberately expensive (a few hundred milliseconds): a policy slower than a caller's deadline.
allow := count([1 | some x in numbers.range(1, 1500); some y in numbers.range(1, 1500); x + y == 5]) > 0 if case == "slow"
`;
