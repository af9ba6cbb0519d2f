// Policies the explain tests share (the CLI against opa eval, the server against opa run): notes from
// trace() in two rules of which OPA's index enters one, and a partial set whose body fails for one element.
export const rolesPolicy = `package x

allow if {
  trace("checking role")
  input.role == "admin"
}

allow if {
  input.user == "bob"
  trace(sprintf("user %v", [input.user]))
}

deny contains msg if {
  some r in input.roles
  r != "admin"
  msg := sprintf("bad %v", [r])
}
`;
