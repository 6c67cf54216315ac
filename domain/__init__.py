"""The write model of claimledger: aggregates, events, the status rule and the application."""
