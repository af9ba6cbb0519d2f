package exec.authz

default allow := false

allow if input.user == "alice"

greeting := sprintf("hello %v", [input.user]) if input.user

roles := [r | some r in input.roles]

no_roles := [] if count(object.get(input, "roles", [])) == 0
