# Example policy for Kong's OPA plugin.
#
# Kong POSTs to <opa_host>:<opa_port><opa_path>, here opa_path = /v1/data/kong/authz/decision, a body
#   {"input": {"request": {"http": {method, scheme, host, port, path, headers, querystring, tls}},
#              "client_ip": ..., "consumer": ... (with include_consumer_in_opa_input)}}
# and reads "result": a boolean, or {"allow": bool, "status": number, "headers": {..}, "message": string}.
# On allow the headers go upstream; on deny the client gets status (default 403) and {"message": ...}.
# An undefined result or a non-boolean "allow" makes Kong answer 500, so "decision" is always defined.
package kong.authz

http := input.request.http

public if http.path == "/health"

reading if http.method in {"GET", "HEAD"}

decision := {"allow": true} if {
	public
} else := {
	"allow": false,
	"status": 401,
	"message": "authentication required",
	"headers": {"WWW-Authenticate": "Key realm=\"kong\""},
} if {
	not input.consumer.username
} else := {"allow": true, "headers": {"X-Authz-User": input.consumer.username}} if {
	reading
} else := {"allow": false, "status": 403, "message": sprintf("%s may only read", [input.consumer.username])}
