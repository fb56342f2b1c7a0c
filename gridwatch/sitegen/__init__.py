"""A fictional district in the site-folder format (see gridwatch.site), made from a seed.

The demo site is ``generate_site(Path("site/demo"))`` with the defaults; the same seed and
sizes always write the same bytes.

Modules, in the order generate_site uses them: layout (streets, communities, grids and
buildings on a jittered lattice), devices (installations within a device budget), people
(departments, staff and duty rosters) and writer (the files' YAML); names holds the name pools.
"""

from gridwatch.sitegen.generate import generate_site

__all__ = ["generate_site"]
