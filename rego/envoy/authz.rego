# Example policy for Envoy ext_authz (gRPC or HTTP mode), nginx auth_request and Traefik forwardAuth.
# All of them get the same input: opa-envoy-plugin's (attributes.request.http.{method,path,headers,...},
# parsed_path, parsed_query, parsed_body, truncated_body, version). The decision path is
# envoy/authz/allow, opa-envoy-plugin's default.
package envoy.authz

http := input.attributes.request.http

# The bearer token's claims, read without verification to keep the example short; a real policy
# verifies the signature with io.jwt.decode_verify.
claims := json.unmarshal(base64url.decode(payload)) if {
	[_, token] := split(http.headers.authorization, " ")
	[_, payload, _] := split(token, ".")
}

# No usable credentials: 401 with a challenge.
default allow := {"allowed": false, "http_status": 401, "body": "authentication required", "headers": {"www-authenticate": "Bearer"}}

allow := decision if claims.sub

decision := {
	"allowed": true,
	"headers": {"x-user": claims.sub},
	"request_headers_to_remove": ["authorization"],
} if {
	permitted
} else := {"allowed": false, "http_status": 403, "body": "forbidden"}

permitted if {
	http.method == "GET"
	input.parsed_path[0] == "api"
}

permitted if {
	http.method == "POST"
	input.parsed_path == ["api", "orders"]
	"writer" in claims.roles
	not input.truncated_body
	input.parsed_body.amount <= 1000
}
