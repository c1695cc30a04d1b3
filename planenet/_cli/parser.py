"""The client commands' arguments: a subcommand of `planenet` each, all with --url and --api-key."""

import argparse
import re
from collections.abc import Callable
from typing import TypeAlias, get_args

from planenet._cli import commands
from planenet._cli.inputs import STDIN
from planenet._client import Client
from planenet._config import API_KEY_VARIABLE, DEFAULT_TIMEOUT, DEFAULT_URL, URL_VARIABLE
from planenet._models import JOB_STATUSES
from planenet._requests import FIGURE_KINDS, BoundaryMode
from planenet._retry import Retry

Action = Callable[[Client, argparse.Namespace], int]

ACTION = "client_action"
"""The attribute of a parsed command line that holds a client command's action."""

# Points such as -1,-1 are values, not options (argparse only takes -1 or -1.5 for numbers).
NEGATIVE_NUMBER = re.compile(r"^-\.?\d")

MODEL_HELP = "a model: its id, NAME (the newest version), NAME@v2 or NAME@ALIAS"

SubParsers: TypeAlias = "argparse._SubParsersAction[argparse.ArgumentParser]"


def _server_options() -> argparse.ArgumentParser:
    """The options every client command takes: where the server is, its key, the timeout."""
    options = argparse.ArgumentParser(add_help=False)
    group = options.add_argument_group("server")
    group.add_argument(
        "--url", help=f"the server's URL (default ${URL_VARIABLE}, else {DEFAULT_URL})"
    )
    group.add_argument("--api-key", help=f"the API key (default ${API_KEY_VARIABLE})")
    group.add_argument(
        "--timeout",
        type=float,
        metavar="SECONDS",
        help=f"how long to wait for each answer (default {DEFAULT_TIMEOUT.read:g})",
    )
    group.add_argument(
        "--retries",
        type=int,
        metavar="N",
        help=f"times to repeat a safe request that found no server (default {Retry().retries})",
    )
    return options


def _json_option(parser: argparse.ArgumentParser, what: str) -> None:
    parser.add_argument("--json", action="store_true", help=f"print {what} as JSON, for scripts")


def _layer_sizes(text: str) -> list[int]:
    """``"8,8"`` as ``[8, 8]``; an empty text is no hidden layer."""
    try:
        return [int(size) for size in text.split(",") if size.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a comma-separated list of sizes"
        ) from None


def _add_command(
    commands_action: SubParsers,
    name: str,
    action: Action,
    help_text: str,
    parents: list[argparse.ArgumentParser],
) -> argparse.ArgumentParser:
    parser = commands_action.add_parser(
        name,
        help=help_text,
        description=help_text[0].upper() + help_text[1:] + ".",
        parents=parents,
    )
    parser.set_defaults(**{ACTION: action})
    return parser


def _add_train(commands_action: SubParsers, parents: list[argparse.ArgumentParser]) -> None:
    train = _add_command(
        commands_action, "train", commands.train, "start training a network", parents
    )
    train.epilog = (
        "Members not given keep the server's defaults, the tutorial's method. Prints the job's "
        "id; with --wait or --watch, the model's id once the job succeeds."
    )
    train.add_argument(
        "--body",
        metavar="FILE",
        help=f"a JSON training body ({STDIN}: standard input); flags override it",
    )
    data = train.add_argument_group("data")
    data.add_argument("--generator", help="the points' generator, e.g. moons")
    data.add_argument("--n-samples", type=int, metavar="N", help="points to generate")
    data.add_argument("--noise", type=float, help="noise of the generated points")
    data.add_argument("--data-seed", type=int, metavar="SEED", help="seed of the generated points")
    data.add_argument(
        "--data-csv", metavar="FILE", help="train on these points instead: rows of x,y,label"
    )
    network = train.add_argument_group("network and training")
    network.add_argument("--name", help="a label for people")
    network.add_argument(
        "--hidden-layers",
        type=_layer_sizes,
        metavar="SIZES",
        help="units per hidden layer, e.g. 8,8",
    )
    network.add_argument("--activation", help="of the hidden layers, e.g. tanh")
    network.add_argument("--init", help="how weights are drawn, e.g. he")
    network.add_argument("--epochs", type=int)
    network.add_argument("--learning-rate", type=float, metavar="RATE")
    network.add_argument("--optimizer", help="e.g. adam")
    network.add_argument("--batch-size", type=int, metavar="N", help="rows per step (default: all)")
    network.add_argument("--l2", type=float, metavar="LAMBDA", help="weight decay")
    network.add_argument(
        "--validation-fraction", type=float, metavar="SHARE", help="share of points held out"
    )
    network.add_argument("--seed", type=int, help="seed of the weights and shuffling")
    follow = train.add_mutually_exclusive_group()
    follow.add_argument("--wait", action="store_true", help="wait for the job to finish")
    follow.add_argument(
        "--watch", action="store_true", help="show a live progress bar until the job finishes"
    )
    _json_option(train, "the job (the model with --wait or --watch)")


def add_client_commands(
    commands_action: SubParsers,
) -> None:
    """Add the client commands (train, watch, jobs, models, predict, figure, cancel, delete,
    and the registry's: evaluate, registered-models, annotate, alias)."""
    parents = [_server_options()]
    _add_train(commands_action, parents)

    watch = _add_command(
        commands_action, "watch", commands.watch, "follow a job with a live progress bar", parents
    )
    watch.add_argument("job_id", metavar="JOB")
    _json_option(watch, "the model")

    jobs = _add_command(commands_action, "jobs", commands.jobs, "list jobs, or show one", parents)
    jobs.add_argument("job_id", metavar="JOB", nargs="?", help="show this job only")
    jobs.add_argument("--status", choices=JOB_STATUSES, help="only jobs with this status")
    jobs.add_argument("--limit", type=int, help="jobs per page")
    jobs.add_argument("--offset", type=int, help="jobs to skip, newest first")
    _json_option(jobs, "the page (or the job)")

    models = _add_command(
        commands_action, "models", commands.models, "list models, or show one", parents
    )
    models.add_argument(
        "model", metavar="MODEL", nargs="?", help=f"show this model only: {MODEL_HELP}"
    )
    models.add_argument("--limit", type=int, help="models per page")
    models.add_argument("--offset", type=int, help="models to skip, newest first")
    _json_option(models, "the page (or the model)")

    predict = _add_command(
        commands_action, "predict", commands.predict, "classify points with a model", parents
    )
    predict.epilog = (
        "Points come from the arguments (1,1 -1,-1), else --file, else standard input, as CSV "
        "rows whose first two columns are x and y (a header row is skipped). Prints CSV: "
        "x,y,label,probability. Options go before MODEL or after the points."
    )
    predict._negative_number_matcher = NEGATIVE_NUMBER
    predict.add_argument("model", metavar="MODEL", help=MODEL_HELP)
    predict.add_argument("points", metavar="X,Y", nargs="*", help="a point, e.g. -1,-1")
    predict.add_argument("--file", metavar="FILE", help=f"a CSV file of points ({STDIN}: stdin)")
    _threshold_option(predict)
    _json_option(predict, "the API's answer")

    figure = _add_command(
        commands_action, "figure", commands.figure, "write a model's figure to a file", parents
    )
    figure.epilog = (
        "FILE.json gets Plotly figure JSON; FILE.html a standalone page that works offline "
        "(plotly.js inside). Without -o, the JSON goes to standard output."
    )
    figure.add_argument("reference", metavar="MODEL", help=f"{MODEL_HELP} (a job's id, with --job)")
    figure.add_argument("kind", metavar="KIND", choices=FIGURE_KINDS, help=", ".join(FIGURE_KINDS))
    figure.add_argument("-o", "--output", metavar="FILE", default=STDIN, help=".json or .html")
    figure.add_argument("--job", action="store_true", help="MODEL is a job: its loss so far")
    figure.add_argument("--resolution", type=int, help="boundary: grid points per axis")
    figure.add_argument("--mode", choices=get_args(BoundaryMode), help="boundary: what to draw")
    figure.add_argument("--max-points", type=int, metavar="N", help="loss: at most N points")

    cancel = _add_command(
        commands_action, "cancel", commands.cancel, "cancel a queued or running job", parents
    )
    cancel.add_argument("job_id", metavar="JOB")
    _json_option(cancel, "the job")

    delete = _add_command(commands_action, "delete", commands.delete, "delete a model", parents)
    delete.add_argument("model", metavar="MODEL", help=MODEL_HELP)
    delete.add_argument(
        "--force", action="store_true", help="also remove the aliases that point at it"
    )

    _add_registry_commands(commands_action, parents)


def _threshold_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--threshold",
        type=float,
        metavar="P",
        help="label 1 where the class-1 probability exceeds P (0 < P < 1; default: the server's)",
    )


def _add_registry_commands(
    commands_action: SubParsers, parents: list[argparse.ArgumentParser]
) -> None:
    """Add evaluate, registered-models, annotate and alias (set, delete)."""
    evaluate = _add_command(
        commands_action,
        "evaluate",
        commands.evaluate,
        "measure a model on labelled points",
        parents,
    )
    evaluate.epilog = (
        "Points come from --file, else standard input, as CSV rows x,y,label (a header row is "
        "skipped). Prints accuracy, log loss, precision, recall, F1, ROC-AUC and the confusion "
        "matrix."
    )
    evaluate.add_argument("model", metavar="MODEL", help=MODEL_HELP)
    evaluate.add_argument(
        "--file", metavar="FILE", help=f"a CSV file of x,y,label rows ({STDIN}: stdin)"
    )
    _threshold_option(evaluate)
    _json_option(evaluate, "the API's answer")

    registered = _add_command(
        commands_action,
        "registered-models",
        commands.registered_models,
        "list registered models (names with versions and aliases), or show one",
        parents,
    )
    registered.add_argument(
        "name", metavar="NAME", nargs="?", help="show this name with all its versions"
    )
    registered.add_argument("--limit", type=int, help="names per page")
    registered.add_argument("--offset", type=int, help="names to skip")
    _json_option(registered, "the page (or the registered model)")

    annotate = _add_command(
        commands_action,
        "annotate",
        commands.annotate,
        "set a model's description and tags (or a registered model's, with --registered)",
        parents,
    )
    annotate.epilog = "Description and tags not mentioned stay as they are."
    annotate.add_argument("model", metavar="MODEL", help=f"{MODEL_HELP}; with --registered, a name")
    annotate.add_argument(
        "--registered", action="store_true", help="MODEL is a registered name: annotate the name"
    )
    description = annotate.add_mutually_exclusive_group()
    description.add_argument("--description", metavar="TEXT", help="set the description")
    description.add_argument(
        "--clear-description", action="store_true", help="remove the description"
    )
    annotate.add_argument(
        "--tag", action="append", default=[], metavar="KEY=VALUE", help="set a tag (repeatable)"
    )
    annotate.add_argument(
        "--untag", action="append", default=[], metavar="KEY", help="remove a tag (repeatable)"
    )
    _json_option(annotate, "the model (or the registered model)")

    alias = commands_action.add_parser(
        "alias",
        help="point a registered model's alias at a version, or remove it",
        description="Point a registered model's alias at a version (NAME@ALIAS), or remove it.",
    )
    alias_commands = alias.add_subparsers(dest="alias_command", metavar="COMMAND", required=True)
    set_alias = _add_command(
        alias_commands, "set", commands.set_alias, "point NAME@ALIAS at VERSION", parents
    )
    set_alias.add_argument("name", metavar="NAME", help="a registered name")
    set_alias.add_argument("alias", metavar="ALIAS", help="letters, digits, '-' and '_'")
    set_alias.add_argument("version", metavar="VERSION", type=_version, help="e.g. 2 or v2")
    _json_option(set_alias, "the registered model")
    delete_alias = _add_command(
        alias_commands, "delete", commands.delete_alias, "remove NAME@ALIAS", parents
    )
    delete_alias.add_argument("name", metavar="NAME", help="a registered name")
    delete_alias.add_argument("alias", metavar="ALIAS")


def _version(text: str) -> int:
    """``"2"`` or ``"v2"`` as 2."""
    digits = text[1:] if text[:1] in {"v", "V"} else text
    if not digits.isdigit():
        raise argparse.ArgumentTypeError(f"{text!r} is not a version number (e.g. 2 or v2)")
    return int(digits)
