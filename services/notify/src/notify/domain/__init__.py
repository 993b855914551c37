"""Notify's domain: invitations, notifications, recipients, eligibility, timing and templates, without IO.

Ids and the current time are passed in, never made here.
"""
