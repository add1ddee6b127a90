"""The sandbox's use cases, each whole: a refund with its idempotency (``refunds``), the
reads (``queries``), settlement (``settlement``) and the clock's persistence (``control``).

They read and write through the storage interface
(:mod:`kakaclo_sandbox.storage.interface`) and decide by the rules of
:mod:`kakaclo_sandbox.domain`; they know no HTTP and no SQL.
"""
