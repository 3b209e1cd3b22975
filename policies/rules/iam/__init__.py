"""Identity and access: who may do what, scoped where."""
