"""The embedded store's engine: pyoxigraph in worker processes that can be killed.

`pool.WorkerPool` keeps a few worker processes (`python -m publisher.store.engine.worker`),
each with the release's store, cut off from the network (publisher.sparql.sandbox) and under
the memory limit `query_memory` (`memory`); a query that outlives its time limit has its
worker killed and replaced (publisher.children starts, ties, times and reaps them).
"""
