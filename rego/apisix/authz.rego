# Example policy for Apache APISIX's opa plugin.
#
# APISIX POSTs to <host>/v1/data/<policy>, here policy = apisix/authz/decision, a body
#   {"input": {"type": "http", "request": {scheme, path, headers, query, port, method, host},
#              "var": {server_addr, server_port, remote_addr, remote_port, timestamp},
#              "route": ..., "service": ..., "consumer": ... (with with_route/with_service/with_consumer)}}
# and reads "result": {"allow": bool, "reason": string|object, "headers": {..}, "status_code": number}.
# On deny the client gets status_code (default 403), the headers and the reason as body.
package apisix.authz

request := input.request

token := substring(request.headers.authorization, count("Bearer "), -1) if {
	startswith(request.headers.authorization, "Bearer ")
}

decision := {"allow": true} if {
	request.path == "/health"
} else := {
	"allow": false,
	"status_code": 401,
	"reason": "missing bearer token",
	"headers": {"WWW-Authenticate": "Bearer"},
} if {
	not token
} else := {"allow": true, "headers": {"X-Authz-Token-Length": format_int(count(token), 10)}} if {
	request.method == "GET"
} else := {"allow": false, "status_code": 403, "reason": {"message": "read only", "method": request.method}}
