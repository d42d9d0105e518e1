"""Mutants of the reference target: realistic implementation defects, and correct variants.

Not shipped: a mutant exists to prove the smoke suite catches the defect it
carries (``bench/mutants.py``, ``tests/test_mutants.py``), a benign variant
to prove the suite passes a correct system that differs from the reference.
"""
