"""What the two server commands share (``kakaclo-sandbox`` and its validating proxy).

The listening socket bound before anything is slow, the garbage collector set
for a long-running server, the command line's one-line usage errors and port,
and the version. It imports nothing else of the project, so the proxy needs no
sandbox module.
"""
