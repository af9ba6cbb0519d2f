package suite.authz_test

import data.suite.authz

test_reader_may_get if authz.allow with input as {"method": "GET", "user": "alice"}

test_stranger_may_not_get if not authz.allow with input as {"method": "GET", "user": "mallory"}

test_admin if authz.allow with input as {"method": "POST", "user": "admin"}

test_blocked_admin if {
	not authz.allow with input as {"method": "POST", "user": "admin"}
		with data.suite.config.blocked as ["admin"]
}

test_mocked_function if {
	authz.allow with input as {"method": "POST", "user": "admin"} with authz.blocked as false
}

test_mocked_builtin if {
	authz.greeting == "mocked" with input.user as "x" with sprintf as mock_sprintf
}

mock_sprintf(_, _) := "mocked"

test_mocked_builtin_value if {
	authz.greeting == "seven" with input.user as "x" with sprintf as "seven"
}

test_readers_replaced if {
	authz.allow with input as {"method": "GET", "user": "carol"} with data.suite.config.readers as ["carol"]
}
