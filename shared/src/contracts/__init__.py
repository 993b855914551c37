"""Message contracts shared by the clinics services: envelope, messages and broker topology."""
