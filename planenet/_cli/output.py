"""What the client commands write: tables for people, JSON for scripts, CSV predictions, figures."""

import csv
import json
import sys
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any, TextIO

from rich.console import Console, Group
from rich.table import Table

from planenet._cli.inputs import STDIN, UsageError
from planenet._figures import Figure
from planenet._models import Evaluation, Job, Model, Prediction, RegisteredModel

PIPE_WIDTH = 240
"""Columns of a table written to a file or a pipe: wide enough that no id is cut."""

FIGURE_SUFFIXES = (".json", ".html")


def console(file: TextIO) -> Console:
    """A rich console on ``file``: the terminal's width, or a wide one for a pipe."""
    return Console(file=file, width=None if file.isatty() else PIPE_WIDTH)


def print_json(document: Any) -> None:
    """``document`` as indented JSON on standard output."""
    sys.stdout.write(json.dumps(document, indent=2) + "\n")


def _number(value: float | None, digits: int = 4) -> str:
    return "-" if value is None else f"{value:.{digits}g}"


def _when(moment: datetime | None) -> str:
    return "-" if moment is None else moment.astimezone().strftime("%Y-%m-%d %H:%M:%S")


def jobs_table(jobs: Sequence[Job], total: int) -> Table:
    """One row per job: id, name, status, epochs done, loss, model, created."""
    table = Table(caption=f"{len(jobs)} of {total} jobs, newest first", caption_justify="left")
    for header in ("id", "name", "status", "epoch", "loss", "model", "created"):
        table.add_column(header, no_wrap=header in {"id", "model"})
    for job in jobs:
        progress = job.progress
        table.add_row(
            job.id,
            job.name or "",
            job.status,
            f"{progress.epoch}/{progress.epochs}",
            _number(progress.loss),
            job.model_id or "",
            _when(job.created_at),
        )
    return table


def models_table(models: Sequence[Model], total: int) -> Table:
    """One row per model: id, name, accuracy, loss, epochs run, training time, created."""
    table = Table(caption=f"{len(models)} of {total} models, newest first", caption_justify="left")
    headers = ("id", "name", "accuracy", "loss", "val. accuracy", "epochs", "seconds", "created")
    for header in headers:
        table.add_column(header, no_wrap=header == "id")
    for model in models:
        metrics = model.metrics
        table.add_row(
            model.id,
            model.name or "",
            _number(metrics.train_accuracy),
            _number(metrics.train_loss),
            _number(metrics.validation_accuracy),
            str(metrics.epochs_run),
            _number(metrics.train_seconds, 3),
            _when(model.created_at),
        )
    return table


def details_table(title: str, rows: Sequence[tuple[str, Any]]) -> Table:
    """A two-column table of one resource's members."""
    table = Table(title=title, title_justify="left", show_header=False)
    table.add_column("member", style="bold")
    table.add_column("value", overflow="fold")
    for name, value in rows:
        shown = json.dumps(value) if isinstance(value, dict | list) else value
        table.add_row(name, "-" if shown is None else str(shown))
    return table


def job_details(job: Job) -> Table:
    progress = job.progress
    return details_table(
        f"job {job.id}",
        [
            ("name", job.name),
            ("status", job.status),
            ("epoch", f"{progress.epoch}/{progress.epochs}"),
            ("loss", _number(progress.loss)),
            ("validation loss", _number(progress.validation_loss)),
            ("time left (s)", _number(progress.eta_seconds, 3)),
            ("model", job.model_id),
            ("error", job.error),
            ("created", _when(job.created_at)),
            ("started", _when(job.started_at)),
            ("finished", _when(job.finished_at)),
            ("config", job.config),
        ],
    )


def model_details(model: Model) -> Table:
    metrics = model.metrics
    return details_table(
        f"model {model.id}",
        [
            ("name", model.name),
            ("train accuracy", _number(metrics.train_accuracy)),
            ("train loss", _number(metrics.train_loss)),
            ("validation accuracy", _number(metrics.validation_accuracy)),
            ("validation loss", _number(metrics.validation_loss)),
            ("epochs run", metrics.epochs_run),
            ("training seconds", _number(metrics.train_seconds, 3)),
            ("job", model.job_id),
            ("created", _when(model.created_at)),
            ("version", model.version),
            ("aliases", ", ".join(model.aliases) or None),
            ("tags", model.tags or None),
            ("description", model.description),
            ("config", model.config),
        ],
    )


def _aliases(aliases: dict[str, int]) -> str:
    return ", ".join(f"{alias}=v{version}" for alias, version in sorted(aliases.items()))


def registered_models_table(registered: Sequence[RegisteredModel], total: int) -> Table:
    """One row per registered name: its newest version, aliases, tags, description, created."""
    table = Table(caption=f"{len(registered)} of {total} registered models", caption_justify="left")
    for header in ("name", "latest", "latest id", "aliases", "tags", "description", "created"):
        table.add_column(header, no_wrap=header in {"name", "latest id"})
    for entry in registered:
        latest = entry.latest_version
        table.add_row(
            entry.name,
            "-" if latest is None or latest.version is None else f"v{latest.version}",
            "-" if latest is None else latest.id,
            _aliases(entry.aliases),
            json.dumps(entry.tags) if entry.tags else "",
            entry.description or "",
            _when(entry.created_at),
        )
    return table


def registered_model_details(registered: RegisteredModel) -> Group:
    """A registered name's members, then one row per version, newest first."""
    members = details_table(
        f"registered model {registered.name}",
        [
            ("description", registered.description),
            ("tags", registered.tags or None),
            ("aliases", _aliases(registered.aliases) or None),
            ("created", _when(registered.created_at)),
        ],
    )
    versions = Table(
        caption=f"{len(registered.versions)} versions, newest first", caption_justify="left"
    )
    for header in ("version", "id", "aliases", "accuracy", "loss", "tags", "created"):
        versions.add_column(header, no_wrap=header == "id")
    for model in registered.versions:
        versions.add_row(
            "-" if model.version is None else f"v{model.version}",
            model.id,
            ", ".join(model.aliases),
            _number(model.metrics.train_accuracy),
            _number(model.metrics.train_loss),
            json.dumps(model.tags) if model.tags else "",
            _when(model.created_at),
        )
    return Group(members, versions)


def evaluation_details(evaluation: Evaluation) -> Table:
    """An evaluation's metrics and confusion matrix."""
    matrix = evaluation.confusion_matrix
    class_0, class_1 = evaluation.support
    return details_table(
        f"model {evaluation.model_id} at threshold {evaluation.threshold:g}",
        [
            ("accuracy", _number(evaluation.accuracy)),
            ("log loss", _number(evaluation.log_loss)),
            ("precision", _number(evaluation.precision)),
            ("recall", _number(evaluation.recall)),
            ("F1", _number(evaluation.f1)),
            (
                "ROC-AUC",
                _number(evaluation.roc_auc)
                if evaluation.roc_auc is not None
                else f"- ({evaluation.roc_auc_undefined_reason})",
            ),
            ("true negatives", matrix.tn),
            ("false positives", matrix.fp),
            ("false negatives", matrix.fn),
            ("true positives", matrix.tp),
            ("points of class 0 / 1", f"{class_0} / {class_1}"),
        ],
    )


def write_predictions_csv(points: Sequence[Sequence[float]], prediction: Prediction) -> None:
    """``x,y,label,probability``, one row per point, on standard output."""
    writer = csv.writer(sys.stdout, lineterminator="\n")
    writer.writerow(["x", "y", "label", "probability"])
    for (x, y), label, probability in zip(
        points, prediction.labels, prediction.probabilities, strict=True
    ):
        writer.writerow([repr(x), repr(y), label, repr(probability)])


def write_figure(figure: Figure, path: str) -> None:
    """``figure`` as Plotly JSON (``.json``, or ``-``: standard output) or a standalone page.

    The page (``.html``) embeds plotly.js from the ``plotly`` package, so it opens offline.
    """
    if path == STDIN:
        print_json(figure)
        return
    suffix = Path(path).suffix.lower()
    if suffix == ".json":
        text = json.dumps(figure)
    elif suffix == ".html":
        text = _standalone_page(figure)
    else:
        raise UsageError(
            f"cannot tell the format of {path}: name it {' or '.join(FIGURE_SUFFIXES)}"
        )
    try:
        Path(path).write_text(text, encoding="utf-8")
    except OSError as error:
        raise UsageError(f"cannot write {path}: {error.strerror or error}") from None


def _standalone_page(figure: Figure) -> str:
    try:
        import plotly.io  # noqa: PLC0415 (optional: only pages need it)
    except ImportError:
        raise UsageError("an .html figure needs the plotly package (pip install plotly)") from None
    page: str = plotly.io.to_html(figure, include_plotlyjs=True, full_html=True)
    return page
