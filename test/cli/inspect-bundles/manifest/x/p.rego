# METADATA
# title: The X package
# description: Does x things
package x

# METADATA
# title: Allow rule
# entrypoint: true
# custom:
#   level: 3
allow if input.ok

deny contains "no" if input.bad
