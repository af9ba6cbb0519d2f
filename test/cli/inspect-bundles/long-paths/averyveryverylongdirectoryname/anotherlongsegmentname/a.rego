package nb
import rego.v1
p if true
