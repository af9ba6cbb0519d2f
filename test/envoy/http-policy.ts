// The policy the HTTP callout tests evaluate: decisions keyed on the original method and path.
export const httpTestPolicy = `package envoy.authz

http := input.attributes.request.http

allow := {"allowed": true, "headers": {"x-user": "alice"}, "response_headers_to_add": {"x-checked": "yes"}} if {
  http.method == "GET"
  input.parsed_path[0] == "public"
}

allow := {"allowed": false, "http_status": 401, "body": "login", "headers": {"www-authenticate": "Bearer realm=verdict"}} if {
  input.parsed_path[0] == "login-required"
}

allow := true if {
  http.method == "POST"
  input.parsed_path == ["orders"]
  input.parsed_body.amount < 100
}

allow := false if {
  not input.parsed_path[0] in {"public", "login-required", "orders", "undefined"}
}

allow := false if {
  http.method == "POST"
  input.parsed_path == ["orders"]
  input.parsed_body.amount >= 100
}

allow := false if {
  input.parsed_path[0] == "public"
  http.method != "GET"
}
`;
