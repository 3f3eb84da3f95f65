"""Open sources beside the MPS borough file (``data/sources.yml``): one small reader per
layout (:mod:`.layouts`, :mod:`.population`), each returning one long frame, and the
all-or-nothing fetch into the cache with its manifest (:mod:`.fetch`)."""
