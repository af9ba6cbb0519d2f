package y.z
q := count([1]) + to_number("2")
r := time.now_ns()
