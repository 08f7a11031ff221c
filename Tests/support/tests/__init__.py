"""The package's own tests. Being a package, this folder puts Tests/support (its parent) on
sys.path under pytest, so `texting_support` imports, and its module names do not collide
with Tests/integration's conftest when both are collected at once."""
