# API-gateway authorization. The gateway has verified the bearer token's signature and passes its claims in
# input.token.claims; this policy checks the claims, resolves the caller's roles (from the token, from
# per-user bindings and from group bindings in data), matches the request against route globs, and explains
# every refusal in a set of deny reasons the gateway can return to the client.
package gateway.authz

default allow := false

allow if {
	count(deny) == 0
	granted
}

claims := input.token.claims

now_s := input.request.time_ns / 1000000000

deny contains "token issuer is not trusted" if not claims.iss in data.gateway.trusted_issuers

deny contains "token audience does not include this API" if not audience_ok

deny contains "token has expired" if claims.exp <= now_s

deny contains "token is not yet valid" if claims.nbf > now_s

deny contains sprintf("tenant %s does not match the token's tenant", [input.request.headers["x-tenant-id"]]) if {
	input.request.headers["x-tenant-id"] != claims.tenant
}

deny contains sprintf("no role of %s grants %s %s", [claims.sub, input.request.method, input.request.path]) if not granted

deny contains "route is under maintenance" if {
	some route in data.gateway.maintenance
	glob.match(route, ["/"], input.request.path)
}

audience_ok if data.gateway.audience in claims.aud

audience_ok if claims.aud == data.gateway.audience

roles contains role if some role in claims.roles

roles contains role if some role in data.gateway.role_bindings[claims.sub]

roles contains role if {
	some group in claims.groups
	some role in data.gateway.group_bindings[group]
}

granted if {
	some role in roles
	some grant in data.gateway.role_grants[role]
	input.request.method in grant.methods
	glob.match(grant.path, ["/"], input.request.path)
	scopes_ok(grant)
}

scopes_ok(grant) if not grant.scope

scopes_ok(grant) if grant.scope in split(claims.scope, " ")
