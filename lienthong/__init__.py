"""The assembly: the one package that may import every other.

It builds the aiohttp application from the platform (:mod:`server`) and the domains
(:mod:`signing`, :mod:`documents`, :mod:`meetings`) with their pages (:mod:`web`), lists the
migration folders, seeds the demo and carries the ``lienthong`` command.  Nothing imports it but
the tests, the benchmarks and the console script; ``make lint`` checks that (import-linter).
"""
