package v

import future.keywords.in

p {
	all([true])
	x := 1
	x == 1
}
q = any([true]) { true }
r { input = 1 }
