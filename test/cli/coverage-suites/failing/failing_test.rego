package failing

test_passes if { true }

todo_test_later if { false }

test_division if { 1 / 0 }

test_false if { false }

test_undefined if { input.nothing }
