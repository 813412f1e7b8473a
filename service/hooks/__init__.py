"""The CDS Hooks protocol: discovery, requests, prefetch, authentication, feedback."""
