package suite.authz

default allow := false

allow if {
	input.method == "GET"
	input.user in data.suite.config.readers
}

allow if {
	input.user == "admin"
	not blocked(input.user)
}

blocked(user) if user in data.suite.config.blocked

greeting := sprintf("hello %s", [input.user])
