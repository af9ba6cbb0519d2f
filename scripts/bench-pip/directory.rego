# The PIP half of the benchmark's gateway policy (rego/gateway/authz.rego, same package): roles also come from
# the caller's groups in the directory (the ldap adapter), and suspended accounts (the http adapter) are refused.
package gateway.authz

roles contains role if {
	some group in input.pip.groups
	some role in data.gateway.group_bindings[group]
}

deny contains "account is suspended" if input.pip.profile.plan == "suspended"
