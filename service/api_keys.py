"""API keys: the configured value parsed into the keys accepted, refusing the common mistakes."""

KEY_SEPARATOR = ","


def parse_api_keys(raw: str) -> tuple[str, ...]:
    """The keys of ``PLANENET_API_KEY``: one key, or several separated by commas (rotation).

    Raises ``ValueError`` with what to fix for an empty value, an empty entry, or a key with
    surrounding whitespace (such a key could never match what a client sends).
    """
    if not raw:
        raise ValueError(
            "is empty: set a key, or unset PLANENET_API_KEY to leave state changes open"
        )
    keys = tuple(raw.split(KEY_SEPARATOR))
    for position, key in enumerate(keys, start=1):
        if not key.strip():
            raise ValueError(
                f"key {position} of {len(keys)} is empty: remove the stray comma "
                "(several keys are separated by single commas)"
            )
        if key != key.strip():
            raise ValueError(
                f"key {position} of {len(keys)} has surrounding whitespace, so no client could "
                "ever send it: remove the spaces or line breaks around it"
            )
    return keys
