"""The validating proxy: check real traffic against openapi.yaml.

``kakaclo-sandbox proxy --upstream URL`` stands in front of any server that
claims to implement the spec, passes every exchange on unchanged, and checks
each one (``checks``) and the exchanges together (``rules``), reporting
findings as they happen (``reports``) and recording a HAR file (``har``).
``kakaclo contract --replay FILE.har`` runs the same checks over a recording
(``replay``).
"""
