package legacy

allow { input.user == "alice" }

names[n] { n := ["a", "b"][_] }
