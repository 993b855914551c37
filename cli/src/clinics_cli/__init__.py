"""The `clinics` command line."""
