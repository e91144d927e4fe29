# cython: language_level=3
"""A 4-ary min-heap indexed by node, shared by the compiled searches.

``keys``/``heap`` hold the queue (key and node per slot), ``where[node]`` a node's slot,
or :data:`NOT_QUEUED` / :data:`SETTLED`. A label that improves moves up in place, so the
heap never holds more than the frontier.
"""

cdef enum:
    NOT_QUEUED = -1
    SETTLED = -2


cdef inline void _put(double* keys, int* heap, int* where, Py_ssize_t j, double key,
                      int node) noexcept nogil:
    keys[j] = key
    heap[j] = node
    where[node] = <int>j


cdef inline void _sift_up(double* keys, int* heap, int* where, Py_ssize_t j, double key,
                          int node) noexcept nogil:
    cdef Py_ssize_t parent
    while j > 0:
        parent = (j - 1) >> 2
        if keys[parent] <= key:
            break
        _put(keys, heap, where, j, keys[parent], heap[parent])
        j = parent
    _put(keys, heap, where, j, key, node)


cdef inline void _sift_down(double* keys, int* heap, int* where, Py_ssize_t size,
                            double key, int node) noexcept nogil:
    cdef Py_ssize_t j = 0, first, child, c, last
    cdef double child_key
    while True:
        first = 4 * j + 1
        if first >= size:
            break
        child, child_key = first, keys[first]
        last = first + 4 if first + 4 < size else size
        for c in range(first + 1, last):
            if keys[c] < child_key:
                child, child_key = c, keys[c]
        if child_key >= key:
            break
        _put(keys, heap, where, j, child_key, heap[child])
        j = child
    _put(keys, heap, where, j, key, node)


cdef inline Py_ssize_t _push(double* keys, int* heap, int* where, Py_ssize_t size,
                             double key, int node) noexcept nogil:
    """Queue ``node`` at ``key`` or lower its key in place; the new heap size."""
    if where[node] == NOT_QUEUED:
        size += 1
        where[node] = <int>(size - 1)
    _sift_up(keys, heap, where, where[node], key, node)
    return size


cdef inline Py_ssize_t _pop(double* keys, int* heap, int* where,
                            Py_ssize_t size) noexcept nogil:
    """Remove the top (read ``keys[0]``, ``heap[0]`` first), mark it settled; the new size."""
    cdef int top = heap[0]
    size -= 1
    if size > 0:
        _sift_down(keys, heap, where, size, keys[size], heap[size])
    where[top] = SETTLED
    return size
