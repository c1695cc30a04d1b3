"""The client commands of ``planenet``: train, watch, jobs, models, predict, figure, cancel, delete,
evaluate, registered-models, annotate and alias.

``add_client_commands`` adds them to the ``planenet`` parser; ``run_client_command`` runs a
parsed one. Exit status: 0 done, 1 the server refused or could not be reached (or the job
failed), 2 unusable input, 130 interrupted. Errors are one message on standard error, never a
traceback.
"""

import argparse
import os
import sys

from planenet._cli.inputs import UsageError
from planenet._cli.parser import ACTION, Action, add_client_commands
from planenet._client import Client
from planenet._config import DEFAULT_TIMEOUT
from planenet._errors import PlaneNetError
from planenet._retry import Retry

__all__ = ["add_client_commands", "is_client_command", "run_client_command"]

INTERRUPTED = 130


def is_client_command(arguments: argparse.Namespace) -> bool:
    """Whether ``arguments`` are a client command's (rather than ``serve``'s or ``worker``'s)."""
    return getattr(arguments, ACTION, None) is not None


def _fail(message: str) -> None:
    print(f"planenet: {message}", file=sys.stderr)


def run_client_command(arguments: argparse.Namespace) -> int:
    """Run a parsed client command; returns its exit status."""
    action: Action = getattr(arguments, ACTION)
    timeout = DEFAULT_TIMEOUT if arguments.timeout is None else arguments.timeout
    try:
        retry = Retry() if arguments.retries is None else Retry(retries=arguments.retries)
        with Client(
            arguments.url, api_key=arguments.api_key, timeout=timeout, retry=retry
        ) as client:
            return action(client, arguments)
    except PlaneNetError as error:
        _fail(str(error))
        return 1
    except (UsageError, ValueError) as error:
        _fail(str(error))
        return 2
    except KeyboardInterrupt:
        return INTERRUPTED
    except BrokenPipeError:
        # The reader of standard output went away (e.g. `| head`): stop quietly.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
