"""The timer the Python benchmark scripts share."""
import statistics
import time


def timed(f, repeats):
    """Run `f` `repeats` times: its last result, the median and best wall
    time, and the median CPU time of the process (every thread: rayon's
    and XLA's), which a shared machine's load stretches less than the
    wall time."""
    times, cpus = [], []
    out = None
    for _ in range(repeats):
        t, c = time.perf_counter(), time.process_time()
        out = f()
        times.append(time.perf_counter() - t)
        cpus.append(time.process_time() - c)
    return out, statistics.median(times), min(times), statistics.median(cpus)
