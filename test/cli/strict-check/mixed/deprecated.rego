package s

t := any([true])

w := re_match("a", "b")

u if {
	input = 1
}

v if {
	data.s.t
	x := 1
	x = 2
}
f(_) := 1
g(x) := 1 if { some y; y = 1; x }
h := [y | y := 1; z := 2]
k if { every e in [1] { e > 0; q := 1 } }
