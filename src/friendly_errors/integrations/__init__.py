"""Optional helpers for frameworks; each module imports its framework only when it is called.

``import friendly_errors`` never imports Flask or Django, and neither does importing these modules:
an app that uses one framework does not pay for, or break on, the absence of the other.
"""
