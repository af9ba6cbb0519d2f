package strict

parse(x) := to_number(x)

r := parse("abc")

ok := parse("12")
