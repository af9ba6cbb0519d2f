package empty

# METADATA
#
q := 1
