"""The fault suite: the services as processes under kills, broker and database restarts and provider faults."""
