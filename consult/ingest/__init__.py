"""Ingest: any survey platform's export into canonical, validated rows in the store."""
