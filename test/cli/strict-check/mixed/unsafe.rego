package unsafe

import data.foo

p if {
	x := 1
	y
}

g(a) := 1 if { b := 2 } else := 2 if { c := 1 }

h(a, _) := a

k := [v | some v in [1]; w := v]
