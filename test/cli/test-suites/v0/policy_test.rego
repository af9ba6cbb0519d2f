package legacy

allow { input.user == "alice" }

names[n] { n := ["a", "b"][_] }

test_allow { allow with input as {"user": "alice"} }

test_deny { not allow with input as {"user": "bob"} }

test_names { names == {"a", "b"} }

test_fails { names["c"] }
