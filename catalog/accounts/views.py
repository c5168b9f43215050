"""Account administration: users, roles, set-password links."""
