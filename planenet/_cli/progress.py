"""The live progress bar of a training job: epoch, loss and time left, fed by the job's events."""

from rich.console import Console
from rich.progress import (
    BarColumn,
    Progress,
    TaskProgressColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from planenet._client import Client
from planenet._events import JobEvent
from planenet._models import Job


def _loss_text(loss: float | None) -> str:
    return "-" if loss is None else f"{loss:.4g}"


def follow(client: Client, job: Job, console: Console) -> JobEvent | None:
    """Show the job's progress until it ends; its final event (None if the stream had none)."""
    columns = (
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        TaskProgressColumn(),
        TextColumn("epoch {task.completed:.0f}/{task.total:.0f}"),
        TextColumn("loss {task.fields[loss]}"),
        TimeElapsedColumn(),
        TextColumn("elapsed,"),
        TimeRemainingColumn(),
        TextColumn("left"),
    )
    label = job.name or f"job {job.id[:8]}"
    with Progress(*columns, console=console) as progress:
        task = progress.add_task(
            label,
            total=job.progress.epochs or None,
            completed=job.progress.epoch,
            loss=_loss_text(job.progress.loss),
        )
        for event in client.watch(job.id):
            if event.final:
                progress.update(task, completed=event.epoch, description=f"{label}: {event.kind}")
                return event
            progress.update(
                task, completed=event.epoch, total=event.epochs, loss=_loss_text(event.loss)
            )
    return None
