"""The fact-checker's workspace: read-only pages served by the API's own process.

Server-rendered with Jinja (every value escaped) and htmx, from the same read queries as the API
(``projections.queries``); every script, style and map is served by the app itself, so no
request leaves the server. See ``routes`` for what is where.
"""
