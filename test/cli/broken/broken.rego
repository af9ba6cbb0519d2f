package broken

p if {
