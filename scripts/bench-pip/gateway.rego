# Benchmark policy: directory groups (ldap adapter) and an account profile (http adapter).
package gateway

default allow := false

groups contains g if some g in input.pip.groups

allow if {
	"staff" in groups
	input.pip.profile.plan != "suspended"
	input.request.method == "GET"
}

allow if "admins" in groups
