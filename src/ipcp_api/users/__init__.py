"""User accounts: admins manage them at /api/v1/users; everyone reads /api/v1/users/me."""
