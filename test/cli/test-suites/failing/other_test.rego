package failing.other

test_other_fails if data.failing.limit > 10

test_other_passes if data.failing.limit < 10
