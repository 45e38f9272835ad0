"""Drift: what changed live behind slbsync's back, found on a schedule.

``detect`` reads and compares as a plan does, ``classify`` says modified,
missing or unexpected, ``report`` renders it (and the alert and metrics
views of it), ``remediate`` applies the plan that undoes it, ``session``
runs one whole run, ``loop`` runs them on a schedule; ``alerts`` and
``metrics`` deliver the outcome.
"""
