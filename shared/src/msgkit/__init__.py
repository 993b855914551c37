"""Reliable messaging kit every clinics service uses: outbox, inbox, broker, runtime and test support."""
