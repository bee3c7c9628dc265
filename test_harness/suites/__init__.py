"""The suites' pytest modules and the helpers they share.

Which suites exist, what each needs and how it is tagged is manifest data
(``components/suites.yaml``); ``test_harness.registry`` builds the runnable suites from it.
"""
