"""The parent-facing online consent form: NHS.UK pages that speak only the published contract."""
