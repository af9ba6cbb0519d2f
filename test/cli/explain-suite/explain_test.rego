package explain

allow if input.user == "bob"

deny contains "no user" if not input.user

test_ok if allow with input as {"user": "bob"}

test_wrong_user if {
	x := 1
	x > 0
	allow with input as {"user": "alice"}
}

test_denied if {
	deny["no user"] with input as {"user": "bob"}
}
