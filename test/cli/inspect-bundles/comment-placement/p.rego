package placement

# METADATA
# title: at column 1
allow if {
  # METADATA
  # title: indented in a body
  input.x == 1
}

  # METADATA
  # title: indented before a rule
deny if input.y

count_rule := 1 # METADATA
# title: after code

# METADATA (the rest of this line is ignored)
# title: first block
# METADATA
# title: second block, the same rule
two := 2

