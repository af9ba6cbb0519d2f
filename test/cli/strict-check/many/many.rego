package s

import data.foo
import data.bar as b
import data.foo
import input.x

p if {
	y := 1
	z := 2
	z > 0
}

q(a, b2) := 1

r if {
	some i
	true
}

t := any([true])

u if {
	input = 1
	data.s.p
}

w := re_match("a", "b")
x if {
	[a, _] := [1, 2]
}
