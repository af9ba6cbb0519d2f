package failing

limit := 3

pick := x if x := [1, 2][_]
