"""The client commands' actions: each takes a Client and parsed arguments, gives an exit status."""

import argparse
import sys
from typing import Any

from planenet._cli.inputs import (
    UsageError,
    parse_tag,
    read_json_object,
    read_labelled_points,
    read_points,
    read_training_points,
)
from planenet._cli.output import (
    console,
    evaluation_details,
    job_details,
    jobs_table,
    model_details,
    models_table,
    print_json,
    registered_model_details,
    registered_models_table,
    write_figure,
    write_predictions_csv,
)
from planenet._cli.progress import follow
from planenet._client import Client
from planenet._models import Job
from planenet._requests import UNSET, Unset

DATA_FLAGS = {
    "generator": "generator",
    "n_samples": "n_samples",
    "noise": "noise",
    "data_seed": "seed",
}
"""Flags of ``train`` that set a member of the body's ``data``: flag destination -> member."""

BODY_FLAGS = (
    "name",
    "hidden_layers",
    "activation",
    "init",
    "epochs",
    "learning_rate",
    "optimizer",
    "batch_size",
    "l2",
    "validation_fraction",
    "seed",
)
"""Flags of ``train`` that set a member of the training body of the same name."""


def _say(message: str) -> None:
    """A message for people, on standard error (standard output carries results)."""
    print(message, file=sys.stderr)


def training_body(arguments: argparse.Namespace) -> dict[str, Any]:
    """The body of ``train``: ``--body`` (default ``{}``) with the given flags set over it."""
    body = read_json_object(arguments.body) if arguments.body is not None else {}
    for name in BODY_FLAGS:
        value = getattr(arguments, name)
        if value is not None:
            body[name] = value
    if arguments.data_csv is not None:
        body["data"] = read_training_points(arguments.data_csv)
    data_flags = {
        member: getattr(arguments, flag)
        for flag, member in DATA_FLAGS.items()
        if getattr(arguments, flag) is not None
    }
    if data_flags:
        if arguments.data_csv is not None:
            raise UsageError(
                "--data-csv gives the points; it cannot be combined with generator flags"
            )
        data = body.get("data")
        body["data"] = {**(data if isinstance(data, dict) else {}), **data_flags}
    return body


def train(client: Client, arguments: argparse.Namespace) -> int:
    """Start a job; with --wait or --watch, follow it and print its model."""
    job = client.create_job(training_body(arguments))
    if not (arguments.wait or arguments.watch):
        if arguments.json:
            print_json(job.raw)
        else:
            print(job.id)
        return 0
    return _follow_to_model(client, job, show_progress=arguments.watch, as_json=arguments.json)


def watch(client: Client, arguments: argparse.Namespace) -> int:
    """Follow a job with a progress bar; print its model once it succeeds."""
    job = client.get_job(arguments.job_id)
    return _follow_to_model(client, job, show_progress=True, as_json=arguments.json)


def _follow_to_model(client: Client, job: Job, *, show_progress: bool, as_json: bool) -> int:
    """Wait for ``job`` (with a progress bar if asked), then print its model, or why it has none."""
    try:
        if show_progress:
            follow(client, job, console(sys.stderr))
            job = client.get_job(job.id)
        else:
            job = client.wait(job.id)
    except KeyboardInterrupt:
        _say(f"planenet: stopped following job {job.id}; it goes on (planenet cancel {job.id})")
        raise
    if job.model_id is None:
        _say(f"planenet: job {job.id} {job.status}: {job.error or 'no model was made'}")
        if as_json:
            print_json(job.raw)
        return 1
    model = client.get_model(job.model_id)
    if as_json:
        print_json(model.raw)
    else:
        print(model.id)
    return 0


def jobs(client: Client, arguments: argparse.Namespace) -> int:
    """One job in detail, or a page of jobs."""
    if arguments.job_id is not None:
        job = client.get_job(arguments.job_id)
        if arguments.json:
            print_json(job.raw)
        else:
            console(sys.stdout).print(job_details(job))
        return 0
    page = client.list_jobs(status=arguments.status, limit=arguments.limit, offset=arguments.offset)
    if arguments.json:
        print_json(page.raw)
    else:
        console(sys.stdout).print(jobs_table(page.items, page.total))
    return 0


def models(client: Client, arguments: argparse.Namespace) -> int:
    """One model in detail, or a page of models."""
    if arguments.model is not None:
        model = client.get_model(arguments.model)
        if arguments.json:
            print_json(model.raw)
        else:
            console(sys.stdout).print(model_details(model))
        return 0
    page = client.list_models(limit=arguments.limit, offset=arguments.offset)
    if arguments.json:
        print_json(page.raw)
    else:
        console(sys.stdout).print(models_table(page.items, page.total))
    return 0


def predict(client: Client, arguments: argparse.Namespace) -> int:
    """Classify points: CSV (x, y, label, probability) or the API's JSON on standard output."""
    points = read_points(arguments.points, arguments.file)
    prediction = client.predict(arguments.model, points, threshold=arguments.threshold)
    if arguments.json:
        print_json(prediction.raw)
    else:
        write_predictions_csv(points, prediction)
    return 0


def figure(client: Client, arguments: argparse.Namespace) -> int:
    """Write a model's figure (or, with --job, a job's loss so far) as JSON or an offline page."""
    if arguments.job:
        if arguments.kind != "loss":
            raise UsageError(f"a job has a loss figure only, not {arguments.kind!r}")
        document = client.job_figure(arguments.reference, max_points=arguments.max_points)
    else:
        document = client.figure(
            arguments.reference,
            arguments.kind,
            resolution=arguments.resolution,
            mode=arguments.mode,
            max_points=arguments.max_points,
        )
    write_figure(document, arguments.output)
    return 0


def cancel(client: Client, arguments: argparse.Namespace) -> int:
    """Cancel a job and say where it stands (still stopping, or cancelled)."""
    job = client.cancel_job(arguments.job_id)
    if arguments.json:
        print_json(job.raw)
    else:
        print(f"job {job.id}: {'stopping' if job.status == 'running' else job.status}")
    return 0


def delete(client: Client, arguments: argparse.Namespace) -> int:
    """Delete a model; with --force, and the aliases that point at it."""
    client.delete_model(arguments.model, force=arguments.force)
    print(f"deleted model {arguments.model}")
    return 0


def evaluate(client: Client, arguments: argparse.Namespace) -> int:
    """Measure a model on labelled points: a table of its metrics, or the API's JSON."""
    points, labels = read_labelled_points(arguments.file)
    evaluation = client.evaluate(arguments.model, points, labels, threshold=arguments.threshold)
    if arguments.json:
        print_json(evaluation.raw)
    else:
        console(sys.stdout).print(evaluation_details(evaluation))
    return 0


def registered_models(client: Client, arguments: argparse.Namespace) -> int:
    """One registered model with its versions, or a page of registered models."""
    if arguments.name is not None:
        registered = client.get_registered_model(arguments.name)
        if arguments.json:
            print_json(registered.raw)
        else:
            console(sys.stdout).print(registered_model_details(registered))
        return 0
    page = client.list_registered_models(limit=arguments.limit, offset=arguments.offset)
    if arguments.json:
        print_json(page.raw)
    else:
        console(sys.stdout).print(registered_models_table(page.items, page.total))
    return 0


def annotate(client: Client, arguments: argparse.Namespace) -> int:
    """Set or clear the description and tags of a model (or, with --registered, of a name)."""
    description: str | Unset | None = UNSET
    if arguments.clear_description:
        description = None
    elif arguments.description is not None:
        description = arguments.description
    tags: dict[str, str | None] = dict(parse_tag(text) for text in arguments.tag)
    for key in arguments.untag:
        if key in tags:
            raise UsageError(f"the tag {key!r} is both set and removed")
        tags[key] = None
    if description is UNSET and not tags:
        raise UsageError(
            "nothing to change: give --description, --clear-description, --tag or --untag"
        )
    if arguments.registered:
        registered = client.patch_registered_model(
            arguments.model, description=description, tags=tags or None
        )
        if arguments.json:
            print_json(registered.raw)
        else:
            console(sys.stdout).print(registered_model_details(registered))
        return 0
    model = client.patch_model(arguments.model, description=description, tags=tags or None)
    if arguments.json:
        print_json(model.raw)
    else:
        console(sys.stdout).print(model_details(model))
    return 0


def set_alias(client: Client, arguments: argparse.Namespace) -> int:
    """Point NAME@ALIAS at a version."""
    registered = client.set_alias(arguments.name, arguments.alias, arguments.version)
    if arguments.json:
        print_json(registered.raw)
    else:
        print(f"{registered.name}@{arguments.alias} -> v{arguments.version}")
    return 0


def delete_alias(client: Client, arguments: argparse.Namespace) -> int:
    """Remove NAME@ALIAS."""
    client.delete_alias(arguments.name, arguments.alias)
    print(f"deleted alias {arguments.name}@{arguments.alias}")
    return 0
