"""The Q&A domain: rules of the community. Never imports discord; takes ids and a session."""
