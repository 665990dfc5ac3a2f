"""Who may do what: roles and security, row-level scope and its rules, disclosure, passwords and login limits, the
audit trail, the structure of employers and sites, workers' requests, code tables and the glossary."""
