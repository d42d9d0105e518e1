"""What the canary's run options accept: read by settings.py in every configured run, without the marker's checks."""

INCONCLUSIVE_POLICIES = ("go", "no-go")
MISSING_TARGET = "--prodready-baseline-url needs --prodready-target-url: the candidate to compare with it"
