"""An app with a model, installed after all of ours by tests/test_role_permissions.py."""
