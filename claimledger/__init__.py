"""claimledger: an event-sourced ledger of contested reports.

The layers live in the repository's top-level folders (``domain/``, ``store/``,
``projections/``, ``webhooks/``, ``transparency/``, ``runtime/``, ``api/``, ``cli/``); this
package holds a link to each, so the installed distribution puts one name, ``claimledger``, into
site-packages.
"""
