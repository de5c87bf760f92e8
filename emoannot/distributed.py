"""`emoannot batch --ray local|auto|ADDRESS`: the batch on Ray, across the CPUs and GPUs of one machine or
a cluster, with the outputs of the plain batch (emoannot.batch: the same Ledger writes summary.csv,
failures.csv and index.html; each worker writes its videos' result folders with the same atomic rules).

- A pool of actors, each holding one loaded Engine (models load once per worker), sized from the
  cluster's CPUs (and GPUs with gpus_per_worker) unless `workers` is given.
- Videos go longest first, one at a time to whichever worker is free.
- A worker that dies (killed, out of memory, node lost) is replaced; its video is retried once on the new
  worker, then logged in failures.csv (stage "worker").
- The driver probes the inputs, decides what --resume skips, owns summary.csv and shows the progress.
  Workers read the inputs and write the results themselves: both must be on storage every node sees.

Ray is an optional extra: pip install "emoannot[ray]".
"""
from __future__ import annotations

import logging
from collections import Counter
from pathlib import Path
from typing import Callable

from emoannot.atomic import clean_stale_partials
from emoannot.batch import (BatchReport, Ledger, Outcome, _plan, annotate_one, batch_lock, check_top_files, failed,
                            is_complete, out_folder_for)
from emoannot.config import Settings
from emoannot.errors import EmoannotError, InputError, MissingExtraError
from emoannot.interrupt import stop_on_signals
from emoannot.models import model_records
from emoannot.progress import BatchEvent
from emoannot.records import VideoInfo

EXTRA = 'pip install "emoannot[ray]"'
CPUS_PER_WORKER = 1  #: each worker runs torch, mediapipe and whisper on this many threads
ATTEMPTS = 2  #: a video whose worker dies is tried once more, on a new worker
POLL_S = 0.5  #: how often the driver looks up from waiting (Ctrl-C, progress)


def import_ray():
    try:
        import ray
    except ImportError:
        raise MissingExtraError(f"--ray needs Ray, an optional extra of emoannot: {EXTRA}", stage="batch") from None
    return ray


class EmoannotWorker:
    """One Ray actor: an Engine loaded once, annotating one video per call."""

    def __init__(self, settings: Settings, threads: int) -> None:
        import torch

        torch.set_num_threads(threads)
        self.error: EmoannotError | None = None
        try:
            from emoannot.pipeline import Engine

            self.engine = Engine(settings)
        except EmoannotError as exc:  # raised again by models(), so that the driver reports it
            self.error = exc

    def models(self):
        if self.error is not None:
            raise self.error
        return self.engine.models

    def annotate(self, video: Path, info: VideoInfo, out_root: Path, folder: Path) -> Outcome:
        return annotate_one(self.engine, video, info, out_root, folder)


def default_workers(resources: dict, gpus_per_worker: float) -> int:
    """As many workers as the cluster's CPUs allow (and its GPUs, when each worker takes a share of one)."""
    n = int(resources.get("CPU", 1) // CPUS_PER_WORKER)
    if gpus_per_worker > 0:
        n = min(n, int(resources.get("GPU", 0) / gpus_per_worker + 1e-9))
    return max(1, n)


def describe(resources: dict) -> str:
    return ", ".join(f"{resources.get(k, 0):g} {k}" + ("s" if k == "CPU" else "") for k in ("CPU", "GPU")
                     if k == "CPU" or resources.get(k))


def connect(ray, address: str) -> bool:
    """Start a local Ray runtime ("local") or join a cluster ("auto", "ray://...", "host:port"); True when this
    call started it (and so must shut it down)."""
    if ray.is_initialized():
        return False
    # Ray's notice that token authentication is on (its default since 2.5x) is for cluster operators, not for
    # someone annotating videos: kept out of the terminal; Ray's other warnings still reach it
    logging.getLogger("ray._private.authentication.authentication_token_setup").setLevel(logging.ERROR)
    kwargs = dict(include_dashboard=False, log_to_driver=False, logging_level=logging.WARNING)
    try:
        ray.init(address="local" if address == "local" else address, **kwargs)
    except (ConnectionError, ValueError, RuntimeError) as exc:
        raise EmoannotError(f"cannot reach the Ray cluster at '{address}' ({exc}); start it with `ray start --head` "
                            "(and `ray start --address=...` on the other nodes), or use --ray local.",
                            stage="batch") from exc
    return True


def run_batch_ray(settings: Settings, root: Path, out_root: Path, videos: list[Path], address: str = "local",
                  workers: int | None = None, gpus_per_worker: float = 0.0, resume: bool = False,
                  fail_fast: bool = False, on_event: Callable[[BatchEvent], None] | None = None) -> BatchReport:
    """emoannot.batch.run_batch on a pool of Ray actors (module docstring)."""
    ray = import_ray()
    from ray.exceptions import RayActorError

    plan = _plan(videos)
    started = connect(ray, address)
    pool: list = []
    try:
        with batch_lock(out_root), stop_on_signals() as stop:
            check_top_files(out_root, settings.formats)
            ledger = Ledger(out_root, plan, settings.formats, on_event or (lambda e: None))
            clean_stale_partials(out_root, recursive=True)
            placeable = default_workers(ray.cluster_resources(), gpus_per_worker)
            if workers is not None and workers > placeable:
                # an actor the cluster cannot place never starts, and a video handed to it would wait for good
                raise InputError(f"--workers {workers}: the Ray cluster can place {placeable} worker(s) "
                                 f"({describe(ray.cluster_resources())}; each takes {CPUS_PER_WORKER} CPU"
                                 + (f" and {gpus_per_worker:g} GPU" if gpus_per_worker else "") + "). Use --workers "
                                 f"{placeable} or fewer (or leave it out), or add nodes.", stage="batch")
            n = workers or placeable
            actor = ray.remote(EmoannotWorker).options(num_cpus=CPUS_PER_WORKER, num_gpus=gpus_per_worker, max_restarts=0,
                                               max_task_retries=0)

            def new_worker():
                w = actor.remote(settings, CPUS_PER_WORKER)
                pool.append(w)
                return w

            running: dict = {}
            try:
                models = model_records(settings)  # a weights error stops the batch here, once, before any worker
                queue: list[int] = []
                for i, (video, info) in enumerate(plan):
                    folder = out_folder_for(video, root, out_root)
                    if resume and is_complete(folder, video, models, settings):
                        ledger.skipped(i, folder)
                    elif isinstance(info, EmoannotError):  # probing failed: nothing for a worker to do
                        ledger.running(i)
                        ledger.finished(i, failed(video, folder, info.stage or "unknown", str(info)))
                    else:
                        queue.append(i)
                queue.sort(key=lambda i: -plan[i][1].duration_s)  # longest first: the last video is a short one
                # workers (each loads the models) only for videos with work: a finished batch starts none
                idle = [new_worker() for _ in range(min(n, len(queue)))]
                if idle:
                    ray.get(idle[0].models.remote())  # a worker that cannot load (a device error) says so once
                attempts: Counter = Counter()
                while queue or running:
                    stop.check()
                    while idle and queue and not (fail_fast and ledger.report.failed):
                        i = queue.pop(0)
                        worker = idle.pop()
                        video, info = plan[i]
                        attempts[i] += 1
                        ledger.running(i)
                        ref = worker.annotate.remote(video, info, out_root, out_folder_for(video, root, out_root))
                        running[ref] = (i, worker)
                    if not running:
                        break
                    done, _ = ray.wait(list(running), num_returns=1, timeout=POLL_S)
                    for ref in done:
                        i, worker = running.pop(ref)
                        video = plan[i][0]
                        try:
                            outcome = ray.get(ref)
                            idle.append(worker)
                        except RayActorError as exc:
                            pool.remove(worker)
                            idle.append(new_worker())
                            if attempts[i] < ATTEMPTS:
                                ledger.warn(i, "its Ray worker died; trying it once more on a new worker")
                                queue.insert(0, i)
                                continue
                            outcome = failed(video, out_folder_for(video, root, out_root), "worker",
                                             f"{video}: the Ray worker died {ATTEMPTS} times while annotating it "
                                             f"(out of memory, or killed?): {str(exc).splitlines()[0]}")
                        ledger.finished(i, outcome)
            except KeyboardInterrupt:
                ledger.report.interrupted = True
            finally:
                for w in pool:
                    ray.kill(w)
                if ledger.report.interrupted:  # a worker may have finished a video the driver had not heard of yet
                    for i, _ in running.values():
                        video = plan[i][0]
                        folder = out_folder_for(video, root, out_root)
                        if is_complete(folder, video, models, settings):
                            ledger.finished_unheard(i, folder)
                ledger.close()
    finally:
        if started:
            ray.shutdown()
    clean_stale_partials(out_root, recursive=True)  # what killed workers left (their processes are gone now)
    return ledger.report
