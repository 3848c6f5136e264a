import threading

from django.db import connections


def run_at_once(work, count: int) -> None:
    """Run `work` in `count` threads released at the same moment, as racing requests or workers
    would; each thread closes its own database connections."""
    barrier = threading.Barrier(count)

    def run():
        barrier.wait()
        try:
            work()
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
