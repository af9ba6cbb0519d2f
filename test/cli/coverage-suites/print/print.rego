package prints

allow if {
	print("checking", input.x, input.missing)
	input.x > 1
}

shown := x if {
	x := 1
	print(x, 1.0, "s", ["a", {"b": 1}], {1, 2}, null, true, {"k": "v"}, 1e100, 12345678901234567890)
}

test_allowed if {
	allow with input as {"x": 2}
}

test_refused if {
	print("refused case")
	allow with input as {"x": 0}
}

test_quiet if shown == 1
