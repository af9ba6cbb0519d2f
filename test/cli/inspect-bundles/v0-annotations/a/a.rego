package a
p { true }
