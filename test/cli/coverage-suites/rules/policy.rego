package cov

default allow := false

allow if {
	input.user == "admin"
}

allow if {
	some r in input.roles
	r == "root"
}

deny contains msg if {
	count(input.bad) > 0
	msg := sprintf("bad %v", [
		input.user,
	])
}

f(x) := y if {
	y := x + 1
} else := 0

g(x) := x * 2

names := [n | some n in input.names; startswith(n, "a")]

all_ok if {
	every x in input.xs {
		x > 0
	}
}

unused if {
	count(input.never) > 1
	true
}
