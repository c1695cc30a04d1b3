"""The schema revisions, oldest first: each file is one step and names the one before it."""
