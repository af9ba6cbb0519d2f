// Data-filtering policies over a tickets table, shared by the partial-evaluation differential tests and the
// database-proven filter tests: each is a policy, the data it reads, the caller's input (the user) and the
// query asked with the row (input.ticket) unknown.
export interface FilterCase {
  name: string;
  policy: string;
  data: unknown;
  /** The known part of the input; input.ticket is the unknown row. */
  user: Record<string, unknown>;
  query: string;
  unknowns?: string[];
  disableInlining?: string[];
  /** Why the SQL/UCAST targets refuse the residual (a fragment of the message), when they must. */
  refusedAsFilter?: string;
  /**
   * Why Verdict's residual has another shape than OPA's (the database tests prove the two select the same
   * rows); the differential test then checks that the shapes still differ, so a change is noticed.
   */
  residualDiffers?: string;
}

const roles = { roles: { alice: ['admin'], bob: ['support'], carol: [] }, teams: { support: ['t1', 't2'], sales: ['t3'] } };

export const filterCases: FilterCase[] = [
  {
    name: 'tenancy',
    policy: `package tickets
allow if input.ticket.tenant == input.user.tenant
`,
    data: {},
    user: { name: 'bob', tenant: 't1' },
    query: 'data.tickets.allow == true',
  },
  {
    name: 'ownership or admin role from data',
    policy: `package tickets
allow if "admin" in data.roles[input.user.name]
allow if {
  input.ticket.assignee == input.user.name
  input.ticket.tenant == input.user.tenant
}
`,
    data: roles,
    user: { name: 'bob', tenant: 't2' },
    query: 'data.tickets.allow == true',
  },
  {
    name: 'admin sees everything',
    policy: `package tickets
allow if "admin" in data.roles[input.user.name]
allow if input.ticket.assignee == input.user.name
`,
    data: roles,
    user: { name: 'alice', tenant: 't1' },
    query: 'data.tickets.allow == true',
  },
  {
    name: 'role membership: tenants of the teams the user is in',
    policy: `package tickets
allow if {
  some team in data.roles[input.user.name]
  some tenant in data.teams[team]
  input.ticket.tenant == tenant
}
`,
    data: roles,
    user: { name: 'bob' },
    query: 'data.tickets.allow == true',
  },
  {
    name: 'negation and comparisons',
    refusedAsFilter: 'invalid statement "input.ticket.resolved"',
    policy: `package tickets
allow if {
  not input.ticket.resolved
  input.ticket.priority >= 2
  input.ticket.priority < 5
}
`,
    data: {},
    user: { name: 'bob' },
    query: 'data.tickets.allow == true',
  },
  {
    name: 'negated comparison and ranges',
    policy: `package tickets
allow if {
  not input.ticket.resolved == true
  input.ticket.priority >= 2
  input.ticket.priority <= 4
}
allow if {
  input.ticket.priority > 5
  not input.ticket.status in {"closed"}
}
`,
    data: {},
    user: { name: 'bob' },
    query: 'data.tickets.allow == true',
  },
  {
    name: 'in a known set, not equal, nulls',
    policy: `package tickets
allow if {
  input.ticket.status in {"open", "pending"}
  input.ticket.assignee != null
}
allow if input.ticket.assignee == null
`,
    data: {},
    user: { name: 'bob' },
    query: 'data.tickets.allow == true',
  },
  {
    name: 'helper rules and functions with known arguments',
    policy: `package tickets
limit := 3 * 2
tenants contains t if some t in data.teams.support
is_owner(name) if name == input.user.name
allow if {
  is_owner("bob")
  input.ticket.tenant in tenants
  input.ticket.priority < limit
}
`,
    data: roles,
    user: { name: 'bob' },
    query: 'data.tickets.allow == true',
  },
  {
    // The default applies only where the other rule does not: a support function, never one more alternative.
    name: 'function with a default on a column (support function)',
    refusedAsFilter: 'use of default rule in data.tickets.level',
    policy: `package tickets
default level(_) := "low"
level(p) := "high" if p > 2
allow if level(input.ticket.priority) == "low"
`,
    data: {},
    user: { name: 'bob' },
    query: 'data.tickets.allow == true',
  },
  {
    name: 'default rule queried for its value (support rules)',
    refusedAsFilter: 'use of default rule in data.tickets.allow',
    policy: `package tickets
default allow := false
allow if input.ticket.tenant == input.user.tenant
allow if input.ticket.public == true
`,
    data: {},
    user: { name: 'bob', tenant: 't3' },
    query: 'data.tickets.allow',
  },
  {
    name: 'default rule compared with true (inlined)',
    policy: `package tickets
default allow := false
allow if input.ticket.tenant == input.user.tenant
allow if input.ticket.public == true
`,
    data: {},
    user: { name: 'bob', tenant: 't3' },
    query: 'data.tickets.allow == true',
  },
  {
    name: 'never allowed',
    policy: `package tickets
allow if {
  input.user.name == "root"
  input.ticket.tenant == "t1"
}
`,
    data: {},
    user: { name: 'bob' },
    query: 'data.tickets.allow == true',
  },
  {
    name: 'builtins on known and unknown arguments',
    policy: `package tickets
allow if {
  startswith(input.ticket.title, upper("urgent"))
  input.ticket.tenant == concat("", ["t", "1"])
}
`,
    data: {},
    user: { name: 'bob' },
    query: 'data.tickets.allow == true',
  },
  {
    name: 'disableInlining keeps the rule as support',
    refusedAsFilter: 'use of multi-value rule in data.tickets.allow',
    policy: `package tickets
allow if input.ticket.tenant == input.user.tenant
`,
    data: {},
    user: { name: 'bob', tenant: 't1' },
    query: 'data.tickets.allow == true',
    disableInlining: ['data.tickets.allow'],
  },
  {
    name: 'not over a rule with several residual conditions',
    policy: `package tickets
allow if {
  input.ticket.tenant == input.user.tenant
  not restricted
}
restricted if {
  input.ticket.status == "closed"
  input.ticket.priority > 3
}
restricted if input.ticket.assignee == "mallory"
`,
    data: {},
    user: { name: 'bob', tenant: 't1' },
    query: 'data.tickets.allow == true',
  },
  {
    name: '`with input.user… as` around a helper rule',
    residualDiffers: 'OPA keeps the rule as a support rule and the `with` on the residual expressions; Verdict evaluates the expression under the replaced input, which leaves plain comparisons',
    policy: `package tickets
visible if input.ticket.status != "draft"
visible if input.user.role == "admin"
allow if {
  input.ticket.tenant == input.user.tenant
  visible with input.user.role as "viewer"
}
`,
    data: {},
    user: { name: 'bob', tenant: 't1', role: 'admin' },
    query: 'data.tickets.allow == true',
  },
  {
    name: '`or` and `and` keywords over residual conditions',
    policy: `package tickets
import future.keywords.and
import future.keywords.or
allow if {
  input.ticket.tenant == "t1"
  input.ticket.status == "open" or input.ticket.assignee == "bob" and input.ticket.resolved == false
}
`,
    data: {},
    user: { name: 'bob' },
    query: 'data.tickets.allow == true',
  },
  {
    name: 'rules with a variable in their heads read above their leaves, and whole',
    policy: `package tickets
team[name].tenants contains t if some t in data.teams[name]
allow if {
  count(team) == 2
  some name in data.roles[input.user.name]
  input.ticket.tenant in team[name].tenants
}
`,
    data: roles,
    user: { name: 'bob' },
    query: 'data.tickets.allow == true',
  },
  {
    name: 'else branches depending on the row (the reference is kept)',
    refusedAsFilter: 'eq: one operand must be a column',
    policy: `package tickets
level := "high" if input.ticket.priority > 2
else := "low"
allow if level == "low"
`,
    data: {},
    user: { name: 'bob' },
    query: 'data.tickets.allow == true',
  },
  {
    name: 'function with else branches and a default on a column (the call is kept)',
    refusedAsFilter: 'invalid builtin data.tickets.level',
    policy: `package tickets
default level(_) := "none"
level(p) := "high" if p > 2
else := "low" if p >= 0
allow if level(input.ticket.priority) == "low"
`,
    data: {},
    user: { name: 'bob' },
    query: 'data.tickets.allow == true',
  },
  {
    name: 'partial object depending on the row, referenced whole (support rules)',
    refusedAsFilter: 'use of multi-value rule in data.tickets.owner_of',
    policy: `package tickets
owner_of[t] := input.ticket.assignee if t := input.ticket.tenant
allow if owner_of == {"t1": input.user.name}
`,
    data: {},
    user: { name: 'bob' },
    query: 'data.tickets.allow == true',
  },
  {
    name: 'a document holding rules that depend on the row, read whole (the reference is kept)',
    refusedAsFilter: 'eq: one operand must be a column',
    policy: `package tickets
checks.open if input.ticket.status == "open"
checks.mine if input.ticket.assignee == input.user.name
allow if {
  c := checks
  c.open == c.mine
}
`,
    data: {},
    user: { name: 'bob' },
    query: 'data.tickets.allow == true',
  },
  {
    name: '`with` of a value read from the row (the expression is kept)',
    refusedAsFilter: '"with" not permitted',
    policy: `package tickets
mine if input.ticket.assignee == input.user.name
allow if mine with input.user.name as input.ticket.reporter
`,
    data: {},
    user: { name: 'bob' },
    query: 'data.tickets.allow == true',
  },
];
