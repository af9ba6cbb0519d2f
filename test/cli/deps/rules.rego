package q
r contains 1
s.t := 2 if input.w
