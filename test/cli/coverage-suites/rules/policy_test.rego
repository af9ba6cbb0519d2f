package cov

test_admin if {
	allow with input as {"user": "admin"}
}

test_f if f(1) == 2

test_names if {
	names == ["ab"] with input as {"names": ["ab", "b"]}
}

test_every if all_ok with input as {"xs": [1, 2]}

test_deny if {
	count(deny) == 1 with input as {"bad": [1], "user": "u"}
}
