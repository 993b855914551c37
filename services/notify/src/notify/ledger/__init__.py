"""The invitation ledger: notify's use cases, one per incoming message, and the timing of invitations."""
