"""Delivery: the dispatcher every replica runs, from a due invitation to the provider's answer and receipt."""
