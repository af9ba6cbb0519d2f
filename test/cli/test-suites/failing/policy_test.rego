package failing

test_passes if limit == 3

test_fails if limit == 4

test_undefined if input.missing

test_false := false

test_not_boolean := 5

todo_test_later if limit == 99

test_conflict if pick == 1

test_twice if limit == 3

test_twice if limit == 4

test_division if 1 / 0

test_function(x) if x
