"""The live canary gate: the candidate measured side by side with the live baseline.

``spec`` reads the marker, ``interleave`` takes the samples (A B, B A, ...
blocks, so drift of the machine hits both alike), ``judgement`` holds them
against the bounds with :mod:`..gates.comparison`, ``pair`` says which two
services are compared, and ``canary_run`` is what the ``canary`` fixture hands a test.
"""
