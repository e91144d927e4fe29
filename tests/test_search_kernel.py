"""The compiled many-to-many search on a hand-made graph, and in a forked child process."""

from __future__ import annotations

import multiprocessing

import numpy as np
from scipy.sparse import csr_matrix

from routing._search_kernel import search_many

# 0 -> 1 -> 2 costs 1 + 1 (seconds 10 + 10, metres 5 + 5); 0 -> 2 directly costs 3.
GRAPH = csr_matrix(
    (np.array([1.0, 3.0, 1.0]), np.array([1, 2, 2], dtype=np.int32),
     np.array([0, 2, 3, 3], dtype=np.int32)),
    shape=(3, 3),
)  # fmt: skip
WEIGHTS = (np.array([10.0, 1.0, 10.0]), np.array([5.0, 1.0, 5.0]))
FROM_0 = [[(0, 0.5, 2.0, 1.0)]]  # a source half a cost unit before node 0


def _search():
    return search_many(GRAPH, WEIGHTS, FROM_0, np.array([1, 2]), limit=np.inf)


def test_cheapest_path_carries_its_seconds_and_metres():
    cost, seconds, metres = _search()
    assert cost.tolist() == [[1.5, 2.5]]  # via node 1, not the direct edge of cost 3
    assert seconds.tolist() == [[12.0, 22.0]] and metres.tolist() == [[6.0, 11.0]]


def _child(queue):
    queue.put([x.tolist() for x in _search()])


def test_a_forked_child_searches_with_its_own_threads():
    """A server forks workers after loading: the child must not wait for its parent's threads."""
    expected = [x.tolist() for x in _search()]  # the parent's thread pool exists now
    context = multiprocessing.get_context("fork")
    queue = context.Queue()
    child = context.Process(target=_child, args=(queue,))
    child.start()
    child.join(timeout=60)
    if child.is_alive():
        child.kill()
    assert child.exitcode == 0
    assert queue.get(timeout=5) == expected
