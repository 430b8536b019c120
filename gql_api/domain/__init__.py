"""Domain logic: what happens when a user does something. No GraphQL, no HTTP here."""
