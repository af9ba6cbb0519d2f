package a

# METADATA
# description: d2
# scope: rule
q := 1

# METADATA
# title: T0
# authors:
# - Jane <j@x.org>
# organizations: [acme]
# related_resources:
# - https://x.org
p := 2
